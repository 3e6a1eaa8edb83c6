import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryInboundDedup, inboundKeyString } from './dedup.js';
import { RedisInboundDedup } from './redis.js';
import { ManualClock } from './testing/manual-clock.js';

// The port contract (claim once, one winner, release, key isolation, TTL) is test/store-contract.test.ts.

describe('InMemoryInboundDedup', () => {
  it('forgets claims after the TTL', async () => {
    const clock = new ManualClock();
    const dedup = new InMemoryInboundDedup({ ttlMs: 1000, clock });
    const key = { tenant: 1, provider: 'avito', message_id: 'm' };
    expect(await dedup.claim(key)).toBe(true);
    clock.advance(999);
    expect(await dedup.claim(key)).toBe(false);
    clock.advance(1);
    expect(await dedup.claim(key)).toBe(true);
  });

  it('stays bounded', async () => {
    const dedup = new InMemoryInboundDedup({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await dedup.claim({ tenant: 1, provider: 'p', message_id: String(i) });
    expect(dedup.size).toBe(3);
  });

  it('keys cannot collide through separators', () => {
    expect(inboundKeyString({ tenant: 1, provider: 'a:b', message_id: 'c' })).not.toBe(
      inboundKeyString({ tenant: 1, provider: 'a', message_id: 'b:c' }),
    );
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('RedisInboundDedup', () => {
  const clients: Redis[] = [];
  const prefix = `cb-test:${Math.random().toString(36).slice(2)}:`;
  const client = () => {
    const redis = new Redis(redisUrl ?? '', { lazyConnect: false, maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  afterAll(async () => {
    const redis = clients[0];
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('is shared between instances (two connections, one winner) and expires with PX', async () => {
    const a = new RedisInboundDedup(client(), { prefix: `${prefix}shared:`, ttlMs: 200 });
    const b = new RedisInboundDedup(client(), { prefix: `${prefix}shared:`, ttlMs: 200 });
    const key = { tenant: 3, provider: 'whatsapp', message_id: 'x' };
    const results = await Promise.all([a.claim(key), b.claim(key), a.claim(key), b.claim(key)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const ttl = await client().pttl(`${prefix}shared:${inboundKeyString(key)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
  });
});
