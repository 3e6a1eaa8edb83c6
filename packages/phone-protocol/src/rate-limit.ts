import type { Clock } from './clock.js';

/** Per-device token bucket for long-polls (`PhoneProtocolOptions.pull.rateLimit`). */
export interface PollRateLimitOptions {
  /** Polls allowed back to back (default 10). */
  burst?: number;
  /** One more poll is allowed every `intervalMs` (default 1000 ms). */
  intervalMs?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Token bucket per device, in process memory. A well-behaved client (re-poll right after each answer,
 * long-polls of up to 30 s) never hits it; a client polling in a tight loop does.
 */
export class PollRateLimiter {
  private readonly burst: number;
  private readonly intervalMs: number;
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    options: PollRateLimitOptions = {},
  ) {
    this.burst = options.burst ?? 10;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  take(key: string): RateDecision {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    const refill = (now - bucket.updatedAt) / this.intervalMs;
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, refill));
    bucket.updatedAt = now;
    // Time-gated: with more than 10,000 active devices a sweep on every poll would cost O(devices) each.
    if (this.buckets.size > 10_000 && now - this.lastSweep >= this.intervalMs * this.burst) this.sweep(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      return { allowed: true };
    }
    this.buckets.set(key, bucket);
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) * this.intervalMs) };
  }

  /** Full buckets carry no information: drop them so the map stays bounded by active devices. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) / this.intervalMs >= this.burst) this.buckets.delete(key);
    }
  }
}
