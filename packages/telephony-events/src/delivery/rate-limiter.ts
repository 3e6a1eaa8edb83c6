import type { Clock } from '../ports.js';
import { systemClock } from '../ports.js';

/** Tuning of {@link createKeyedRateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained rate per key (default 10/s). */
  perSecond?: number;
  /**
   * Bucket size (default 1: calls are paced evenly, like the Go client's `rate.NewLimiter(r, 1)`). A bucket as large
   * as the rate lets a full second's worth go at once, one window after the previous burst, and the server, which
   * counts at arrival, then sees up to twice its limit in one second.
   */
  burst?: number;
  /** Time source (default {@link systemClock}). */
  clock?: Clock;
  /** How a caller waits for its turn, ms (default a real timer; tests pass one driven by their clock). */
  sleep?: (ms: number) => Promise<void>;
}

/** A rate limit per key (an enterprise): each `acquire` is one call. */
export interface KeyedRateLimiter {
  /** Waits until `key` may make one more call. */
  acquire(key: string): Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Token bucket per key; callers of one key are served in arrival order (a reservation never goes back). */
export function createKeyedRateLimiter(options: RateLimiterOptions = {}): KeyedRateLimiter {
  const perSecond = options.perSecond ?? 10;
  const burst = Math.max(1, options.burst ?? 1);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const intervalMs = 1000 / perSecond;
  // Per key: the virtual time at which the bucket is empty again ("GCRA" form of the token bucket).
  const theoretical = new Map<string, number>();
  return {
    async acquire(key) {
      const now = clock.now();
      const tat = Math.max(theoretical.get(key) ?? now, now);
      const allowedAt = tat - (burst - 1) * intervalMs;
      theoretical.set(key, tat + intervalMs);
      if (theoretical.size > 10_000) {
        for (const [k, t] of theoretical) if (t < now) theoretical.delete(k);
      }
      const wait = allowedAt - now;
      if (wait > 0) await sleep(wait);
    },
  };
}
