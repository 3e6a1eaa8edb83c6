import { createHash } from 'node:crypto';
import { createSlidingWindowLimiter, type RateLimiter } from './rate-limiter.js';

export interface KeyLimiters {
  limiter: RateLimiter;
  telephonyLimiter: RateLimiter;
}

// RetailCRM's budget belongs to the key, not to a client object: callers often build a client per operation.
// Keyed by a hash so the process never holds the raw key here; one small entry per (account, key, limits).
const registry = new Map<string, KeyLimiters>();

export function sharedKeyLimiters(
  baseUrl: string,
  apiKey: string,
  perSecond: number,
  telephonyPerSecond: number,
  windowMs: number,
): KeyLimiters {
  const id = createHash('sha256')
    .update(`${baseUrl}\0${apiKey}\0${perSecond}\0${telephonyPerSecond}\0${windowMs}`)
    .digest('hex');
  let entry = registry.get(id);
  if (!entry) {
    entry = {
      limiter: createSlidingWindowLimiter({ limit: perSecond, windowMs }),
      telephonyLimiter: createSlidingWindowLimiter({ limit: telephonyPerSecond, windowMs }),
    };
    registry.set(id, entry);
  }
  return entry;
}
