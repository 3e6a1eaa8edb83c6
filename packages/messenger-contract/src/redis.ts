import type { Redis } from 'ioredis';
import { type InboundDedup, type InboundKey, inboundKeyString } from './dedup.js';

/** Options of RedisInboundDedup. */
export interface RedisInboundDedupOptions {
  /** Key prefix (default `inbox:dedup:`). */
  prefix?: string;
  /** Claim lifetime in ms (default 24 h). */
  ttlMs?: number;
}

/** InboundDedup over Redis: `SET key 1 PX ttl NX` is the atomic claim, shared by every server instance. */
export class RedisInboundDedup implements InboundDedup {
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisInboundDedupOptions = {},
  ) {
    this.prefix = options.prefix ?? 'inbox:dedup:';
    this.ttlMs = options.ttlMs ?? 86_400_000;
  }

  async claim(key: InboundKey): Promise<boolean> {
    const result = await this.redis.set(this.prefix + inboundKeyString(key), '1', 'PX', this.ttlMs, 'NX');
    return result === 'OK';
  }

  async release(key: InboundKey): Promise<void> {
    await this.redis.del(this.prefix + inboundKeyString(key));
  }
}
