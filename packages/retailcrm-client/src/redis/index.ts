import { accountKeyId } from '../limiter-registry.js';
import { createPacingLimiter, DEFAULT_SAFETY_MARGIN } from '../pacing-limiter.js';
import type { RateLimiter } from '../rate-limiter.js';
import { createRedisPacingStore, type RedisScriptClient } from './redis-pacing-store.js';

export { createRedisPacingStore, type RedisScriptClient } from './redis-pacing-store.js';

export interface RedisRateLimitersOptions {
  /** An ioredis `Redis` (or `Cluster`) connection; the caller owns it (connects and quits it). */
  redis: RedisScriptClient;
  /** The account URL and API key the budget belongs to (only a hash of them reaches Redis). */
  url: string;
  apiKey: string;
  /** Defaults as the client: 10, 40, 1000 ms, 0.02. */
  perSecond?: number;
  telephonyPerSecond?: number;
  windowMs?: number;
  safetyMargin?: number;
  /** Upper bound of one request (keep it >= the client's `timeoutMs`; default 30 000 ms). */
  maxRequestMs?: number;
  /** Default `callbridge:retailcrm:pace`. */
  keyPrefix?: string;
}

/**
 * Pacing limiters whose state lives in Redis: every process (and every client) built with the same account URL
 * and API key shares one budget. Pass both to the client:
 *
 * ```ts
 * const limiters = createRedisRateLimiters({ redis, url, apiKey });
 * const crm = createRetailCrmClient({ url, apiKey, rateLimit: limiters });
 * ```
 *
 * If Redis is unreachable, calls fail (the error of ioredis) rather than go out unpaced.
 */
export function createRedisRateLimiters(options: RedisRateLimitersOptions): {
  limiter: RateLimiter;
  telephonyLimiter: RateLimiter;
} {
  const url = options.url.replace(/\/+$/, '').replace(/\/api(\/v5)?$/, '');
  const base = `${options.keyPrefix ?? 'callbridge:retailcrm:pace'}:${accountKeyId(url, options.apiKey.trim())}`;
  const common = {
    windowMs: options.windowMs ?? 1000,
    safetyMargin: options.safetyMargin ?? DEFAULT_SAFETY_MARGIN,
    maxRequestMs: options.maxRequestMs,
  };
  return {
    limiter: createPacingLimiter({
      ...common,
      limit: options.perSecond ?? 10,
      store: createRedisPacingStore(options.redis, `${base}:general`),
    }),
    telephonyLimiter: createPacingLimiter({
      ...common,
      limit: options.telephonyPerSecond ?? 40,
      store: createRedisPacingStore(options.redis, `${base}:telephony`),
    }),
  };
}
