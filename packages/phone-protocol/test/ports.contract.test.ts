import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryLoginAttemptStore,
  InMemoryQrTokenStore,
  InMemoryRevokedTokenStore,
  InMemoryUserStore,
} from '../src/index.js';
import {
  RedisCommandBus,
  RedisDeviceRegistry,
  RedisLoginAttemptStore,
  RedisQrTokenStore,
  RedisRevokedTokenStore,
  RedisUserStore,
} from '../src/redis.js';
import {
  registerCommandBusSuite,
  registerDeviceRegistrySuite,
  registerLoginAttemptStoreSuite,
  registerQrTokenStoreSuite,
  registerRevokedTokenStoreSuite,
  registerUserStoreSuite,
} from '../src/testing/index.js';

// The exported port suites, run against the in-memory and the Redis implementations.
const suiteApi = { describe, it, expect, afterEach };

registerCommandBusSuite(suiteApi, 'in-memory', (options) => new InMemoryCommandBus(options));
registerUserStoreSuite(suiteApi, 'in-memory', () => new InMemoryUserStore());
registerDeviceRegistrySuite(suiteApi, 'in-memory', () => new InMemoryDeviceRegistry());
registerQrTokenStoreSuite(suiteApi, 'in-memory', () => new InMemoryQrTokenStore());
registerLoginAttemptStoreSuite(suiteApi, 'in-memory', () => new InMemoryLoginAttemptStore());
registerRevokedTokenStoreSuite(suiteApi, 'in-memory', () => new InMemoryRevokedTokenStore());

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('redis', () => {
  const connections: Redis[] = [];
  const connect = () => {
    const redis = new Redis(redisUrl!);
    connections.push(redis);
    return redis;
  };
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
  const redis = redisUrl ? connect() : undefined;
  // Random prefix per store: other test files share this Redis.
  const keyPrefix = () => `test:phone:${randomUUID()}:`;

  registerCommandBusSuite(suiteApi, 'redis', async (options) => {
    const bus = new RedisCommandBus({ redis: redis!, keyPrefix: keyPrefix(), ...options });
    // (Re)connecting wakes every subscriber once, by design (wake-ups sent during the gap are lost): settle first.
    await bus.ready();
    return bus;
  });
  registerUserStoreSuite(suiteApi, 'redis', () => new RedisUserStore({ redis: redis!, keyPrefix: keyPrefix() }));
  registerDeviceRegistrySuite(
    suiteApi,
    'redis',
    () => new RedisDeviceRegistry({ redis: redis!, keyPrefix: keyPrefix() }),
  );
  registerQrTokenStoreSuite(suiteApi, 'redis', () => new RedisQrTokenStore({ redis: redis!, keyPrefix: keyPrefix() }));
  registerLoginAttemptStoreSuite(
    suiteApi,
    'redis',
    () => new RedisLoginAttemptStore({ redis: redis!, keyPrefix: keyPrefix() }),
  );
  registerRevokedTokenStoreSuite(
    suiteApi,
    'redis',
    () => new RedisRevokedTokenStore({ redis: redis!, keyPrefix: keyPrefix() }),
  );
});
