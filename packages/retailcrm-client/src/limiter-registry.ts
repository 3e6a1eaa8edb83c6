import { createHash } from 'node:crypto';
import { createPacingLimiter } from './pacing-limiter.js';
import type { RateLimiter } from './rate-limiter.js';

export interface KeyLimiters {
  limiter: RateLimiter;
  telephonyLimiter: RateLimiter;
}

export interface KeyLimits {
  perSecond: number;
  telephonyPerSecond: number;
  windowMs: number;
  safetyMargin: number;
}

/** Stable, non-reversible id of an (account, key) pair: the raw key is never held or stored by a limiter. */
export function accountKeyId(baseUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${baseUrl}\0${apiKey}`).digest('hex').slice(0, 32);
}

// RetailCRM's budget belongs to the key, not to a client object: callers often build a client per operation.
const registry = new Map<string, KeyLimiters>();

/** The process-wide pacing limiters of one (account, key, limits): every client with that key shares them. */
export function sharedKeyLimiters(baseUrl: string, apiKey: string, limits: KeyLimits): KeyLimiters {
  const id = `${accountKeyId(baseUrl, apiKey)}:${limits.perSecond}:${limits.telephonyPerSecond}:${limits.windowMs}:${limits.safetyMargin}`;
  let entry = registry.get(id);
  if (!entry) {
    const { windowMs, safetyMargin } = limits;
    entry = {
      limiter: createPacingLimiter({ limit: limits.perSecond, windowMs, safetyMargin }),
      telephonyLimiter: createPacingLimiter({ limit: limits.telephonyPerSecond, windowMs, safetyMargin }),
    };
    registry.set(id, entry);
  }
  return entry;
}
