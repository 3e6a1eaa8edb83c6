import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

/** A random key prefix for this file's BullMQ queues; its keys are deleted after the enclosing suite. */
export function redisTestPrefix(redisUrl: string | undefined): string {
  const prefix = `cbtest-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    if (!redisUrl) return;
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  return prefix;
}
