import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and keeps half of the delay fixed', () => {
    const options = { minMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 50].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(backoffDelay(2, options, () => 1)).toBe(400);
    expect(backoffDelay(10, options, () => 0.999)).toBeLessThanOrEqual(1_000);
  });
});
