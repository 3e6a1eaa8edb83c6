import { describe, expect, it } from 'vitest';
import { NegativeCache } from './negative-cache.js';

describe('NegativeCache', () => {
  it('evicts the oldest key when full and expires entries', () => {
    const negative = new NegativeCache(2, 100);
    negative.add('a', 0);
    negative.add('b', 0);
    negative.add('a', 10); // refreshes a: b is now the oldest
    negative.add('c', 10);
    expect(negative.has('b', 20)).toBe(false);
    expect(negative.has('a', 20)).toBe(true);
    expect(negative.has('c', 109)).toBe(true);
    expect(negative.has('c', 110)).toBe(false);
    expect(negative.size).toBe(1);
  });
});
