import { type Clock, systemClock } from './clock.js';

/** Exponential backoff bounds: the first delay and the cap, in milliseconds. */
export interface BackoffOptions {
  /** Delay ceiling of the first failure (default 1 s). */
  baseMs?: number;
  /** Largest delay ever returned (default 60 s). */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential with equal jitter,
 * `rand(½, 1) × min(max, base × 2^(attempt−1))`, so clients throttled together do not come back together.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs ?? 60_000, (options.baseMs ?? 1000) * 2 ** (attempt - 1));
  return exp / 2 + random() * (exp / 2);
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds; missing or unparsable -> 0 (the backoff decides). */
export function parseRetryAfter(value: string | null, clock: Clock = systemClock): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - clock.now()) : 0;
}

/** Waits `ms`; resolves early (never rejects) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
