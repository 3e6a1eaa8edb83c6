import type { RandomSource } from './clock.js';

/** Bounds of {@link backoffDelay}: `minMs × 2^attempt`, capped at `maxMs`, with equal jitter. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  minMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
}

/**
 * Capped exponential backoff with "equal jitter": half of the delay is fixed, half random,
 * so reconnecting instances spread out but never hammer faster than `minMs / 2`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: RandomSource): number {
  const min = options.minMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const exp = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return exp / 2 + (exp / 2) * random();
}
