/** Exponential backoff of this package (CRM call retries, queue retries, AMI reconnects). */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** Cap of the un-jittered delay. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Equal jitter: the delay is drawn from [½, 1] of the exponential value (default true). */
  jitter?: boolean;
  /** Source of the jitter, in [0, 1) (default `Math.random`; fixed in tests). */
  random?: () => number;
}

/**
 * Delay before retry `attempt` (1-based): `min(maxMs, initialMs × factor^(attempt−1))`, times `rand(½, 1)` with
 * jitter. Jitter spreads the retries of many enterprises after one shared outage.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 64);
  const base = Math.min(options.maxMs, options.initialMs * (options.factor ?? 2) ** exponent);
  if (options.jitter === false) return base;
  return base / 2 + ((options.random ?? Math.random)() * base) / 2;
}
