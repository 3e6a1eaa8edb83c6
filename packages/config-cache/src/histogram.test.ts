import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.js';

describe('Histogram', () => {
  it('counts cumulatively into fixed buckets', () => {
    const histogram = new Histogram([10, 100]);
    for (const ms of [1, 10, 11, 500]) histogram.observe(ms);
    expect(histogram.snapshot()).toEqual({
      count: 4,
      sumMs: 522,
      maxMs: 500,
      buckets: [
        { leMs: 10, count: 2 },
        { leMs: 100, count: 3 },
        { leMs: null, count: 4 },
      ],
    });
  });
});
