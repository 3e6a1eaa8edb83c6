import { accountKeyId } from '../limiter-registry.js';
import { createPacingLimiter, DEFAULT_SAFETY_MARGIN } from '../pacing-limiter.js';
import type { RateLimiter } from '../rate-limiter.js';
import { createRedisPacingStore, type RedisScriptClient } from './redis-pacing-store.js';

export { createRedisPacingStore, type RedisScriptClient } from './redis-pacing-store.js';

/** Options of `createRedisRateLimiters`. */
export interface RedisRateLimitersOptions {
  /** An ioredis `Redis` (or `Cluster`) connection; the caller owns it (connects and quits it). */
  redis: RedisScriptClient;
  /** The account URL and API key the budget belongs to (only a hash of them reaches Redis). */
  url: string;
  /** The API key (hashed with `url`; never stored). */
  apiKey: string;
  /** Requests per second except `/telephony/*` (default 10, as the client). */
  perSecond?: number;
  /** Requests per second for `/telephony/*` (default 40). */
  telephonyPerSecond?: number;
  /** Window the server counts in (default 1000 ms). */
  windowMs?: number;
  /** Fraction of the limit left unused by pacing (default 0.02). */
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
  /** Paces every call but `/telephony/*` (`perSecond`, default 10 per window). */
  limiter: RateLimiter;
  /** Paces `/telephony/*` calls (`telephonyPerSecond`, default 40 per window). */
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
