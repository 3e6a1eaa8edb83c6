import { describe, expect, it } from 'vitest';
import { Histogram } from '../src/histogram.js';
import { backoffDelay, defaultKeyFromPayload } from '../src/index.js';
import { NegativeCache } from '../src/negative-cache.js';
import { Semaphore } from '../src/semaphore.js';

describe('defaultKeyFromPayload', () => {
  it.each([
    ['{"enterprise_number":"0367","integration_type":"retailcrm"}', '0367'],
    ['{"enterprise_number":367}', '367'],
    ['{"integration_type":"retailcrm"}', undefined],
    ['{"enterprise_number":""}', undefined],
    ['', undefined],
    ['   ', undefined],
    ['0367', '0367'],
    [' 0367 ', '0367'],
    ['{not json', '{not json'],
  ])('%j -> %j', (payload, key) => {
    expect(defaultKeyFromPayload(payload)).toBe(key);
  });
});

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

describe('Semaphore', () => {
  it('runs at most `limit` tasks and serves waiters in order', async () => {
    const semaphore = new Semaphore(1);
    const order: number[] = [];
    let release!: () => void;
    const first = semaphore.run(() => new Promise<void>((resolve) => (release = resolve)).then(() => order.push(1)));
    const second = semaphore.run(async () => order.push(2));
    const third = semaphore.run(async () => order.push(3));
    await Promise.resolve();
    expect(semaphore.pending).toBe(2);
    release();
    await Promise.all([first, second, third]);
    expect(order).toEqual([1, 2, 3]);
  });
});
