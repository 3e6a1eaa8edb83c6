import type { RandomSource } from './clock.js';

/** Retries of one call (the `retry` option); delays are exponential with equal jitter. */
export interface RetryOptions {
  /**
   * Extra attempts after the first (default 3). Rate-limit answers (503/429: not processed) are retried for every
   * method; timeouts, network errors and 500/502/504 only for idempotent requests.
   */
  retries?: number;
  /** First backoff step (default 250 ms). */
  minDelayMs?: number;
  /** Cap of one backoff step (default 5000 ms). */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown (default 30 000 ms). */
  maxRetryAfterMs?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const defaultRetryOptions: ResolvedRetryOptions = {
  retries: 3,
  minDelayMs: 250,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000,
};

/** Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, options: ResolvedRetryOptions, random: RandomSource): number {
  const step = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** attempt);
  return Math.round(step / 2 + (step / 2) * random());
}

/**
 * Wait for a `Retry-After`: the server's delay plus up to one `minDelayMs` of jitter, so clients told the same
 * second do not all come back in the same millisecond.
 */
export function retryAfterDelay(retryAfterMs: number, options: ResolvedRetryOptions, random: RandomSource): number {
  return Math.round(retryAfterMs + options.minDelayMs * random());
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Other bare numbers ("-1") are malformed, not dates (Date.parse would read them as years).
  if (/^[-+]?[\d.]+$/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
