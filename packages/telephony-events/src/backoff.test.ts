import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows by the factor from the first retry and stops at the cap', () => {
    const plain = { initialMs: 1000, maxMs: 60_000, factor: 4, jitter: false };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, plain))).toEqual([1000, 4000, 16_000, 60_000, 60_000]);
    expect(backoffDelay(10_000, plain)).toBe(60_000);
  });

  it('equal jitter keeps the delay within [½, 1] of the exponential value', () => {
    const at = (random: number) => backoffDelay(3, { initialMs: 200, maxMs: 2000, random: () => random });
    expect(at(0)).toBe(400);
    expect(at(1)).toBe(800);
    expect(at(0.5)).toBe(600);
  });
});
