import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryAvitoChatCache,
  InMemoryAvitoTokenStore,
  InMemoryInboundDedup,
  InMemoryProviderTokenStore,
  InMemoryTenantKeyStore,
} from '../src/index.js';
import { RedisInboundDedup } from '../src/redis.js';
import {
  registerAvitoChatCacheSuite,
  registerAvitoTokenStoreSuite,
  registerInboundDedupSuite,
  registerProviderTokenStoreSuite,
  registerTenantKeyStoreSuite,
} from '../src/testing/index.js';

// The store port suites of ./testing against this package's implementations: in memory, and Redis where it exists.

const api = { describe, it, expect, afterEach };

registerTenantKeyStoreSuite(api, 'in memory', () => new InMemoryTenantKeyStore());
registerProviderTokenStoreSuite(api, 'in memory', () => new InMemoryProviderTokenStore());
registerAvitoTokenStoreSuite(api, 'in memory', () => new InMemoryAvitoTokenStore());
registerAvitoChatCacheSuite(api, 'in memory', () => new InMemoryAvitoChatCache());
registerInboundDedupSuite(api, 'in memory', ({ ttlMs, clock }) => new InMemoryInboundDedup({ ttlMs, clock }));

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('redis', () => {
  const prefix = `cbtest-${randomBytes(4).toString('hex')}:`;
  afterAll(async () => {
    const redis = new Redis(redisUrl as string);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  registerInboundDedupSuite(
    api,
    'redis',
    ({ ttlMs }) => {
      const redis = new Redis(redisUrl as string, { maxRetriesPerRequest: 1 });
      return { store: new RedisInboundDedup(redis, { prefix, ttlMs }), dispose: async () => void (await redis.quit()) };
    },
    { realTime: true },
  );
});
