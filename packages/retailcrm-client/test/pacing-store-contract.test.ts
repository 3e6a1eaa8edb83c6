import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMemoryPacingStore } from '../src/pacing-limiter.js';
import { createRedisPacingStore } from '../src/redis/index.js';
import { registerPacingStoreSuite } from '../src/testing/index.js';

// The PacingStore suite of ./testing against the in-process store (manual clock) and the Redis one (Redis' clock).

const api = { describe, it, expect, afterEach };

registerPacingStoreSuite(api, 'in memory', ({ clock }) => createMemoryPacingStore(clock));

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('redis', () => {
  const prefix = `cbtest-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const redis = new Redis(redisUrl as string);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  registerPacingStoreSuite(
    api,
    'redis',
    ({ key }) => {
      // A connection of its own per store, as separate processes would have.
      const redis = new Redis(redisUrl as string, { maxRetriesPerRequest: 1 });
      return {
        store: createRedisPacingStore(redis, `${prefix}:${key}`),
        dispose: async () => void (await redis.quit()),
      };
    },
    { realTime: true, sharedByKey: true },
  );
});
