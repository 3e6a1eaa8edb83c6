import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetailCrmClient } from '../src/index.js';
import { createRedisRateLimiters } from '../src/redis/index.js';
import { maxInAnyWindow } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();
const redisUrl = process.env.TEST_REDIS_URL;

const maxInWindow = (requests: { at: number }[], windowMs: number) =>
  maxInAnyWindow(
    requests.map((request) => request.at),
    windowMs,
  );

describe.skipIf(!redisUrl)('Redis-backed pacing limiters (./redis)', () => {
  let redis: Redis;
  let other: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl as string);
    other = new Redis(redisUrl as string);
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('two "processes" (separate connections and limiters) with one key share one budget at the server', async () => {
    const { fake } = env.start({ users: [{ id: 1 }], rateLimit: { perSecond: 5, windowMs: 200 } });
    const keyPrefix = `test:pace:${Date.now()}`;
    const limits = { url: fake.url, apiKey: fake.apiKey, perSecond: 5, windowMs: 200, keyPrefix };
    const clients = [redis, other].map((connection) =>
      createRetailCrmClient({
        url: fake.url,
        apiKey: fake.apiKey,
        retry: false,
        rateLimit: createRedisRateLimiters({ redis: connection, ...limits }),
      }),
    );
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, index) => clients[index % 2]!.users.get(1)));
    // Each alone would allow 5 per 200 ms; together they must not exceed 5 either (no 503 at the fake).
    expect(fake.state.requests.every((request) => request.status === 200)).toBe(true);
    expect(maxInWindow(fake.state.requests, 200)).toBeLessThanOrEqual(5);
    // 30 requests at 4.9 per 200 ms take at least 29 gaps of ~40.8 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(29 * (200 / 4.9) - 5);
    // Only a hash of the key reaches Redis.
    const keys = await redis.keys(`${keyPrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toContain(fake.apiKey);
  });

  it('fails the call (does not send unpaced) when Redis is unreachable', async () => {
    const { fake } = env.start({ users: [{ id: 1 }] });
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    const client = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      rateLimit: createRedisRateLimiters({ redis: broken, url: fake.url, apiKey: fake.apiKey }),
    });
    await expect(client.users.get(1)).rejects.toThrow();
    expect(fake.state.requests).toHaveLength(0);
    broken.disconnect();
  });
});
