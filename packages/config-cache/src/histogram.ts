import type { LoadTimeHistogram } from './types.js';

const DEFAULT_BOUNDS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** Fixed-bucket histogram (Prometheus style, cumulative on export); O(buckets) memory forever. */
export class Histogram {
  private readonly bounds: number[];
  private readonly counts: number[];
  private count = 0;
  private sum = 0;
  private max = 0;

  constructor(bounds: number[] = DEFAULT_BOUNDS_MS) {
    this.bounds = [...bounds].sort((a, b) => a - b);
    this.counts = new Array<number>(this.bounds.length + 1).fill(0);
  }

  observe(ms: number): void {
    const value = Math.max(0, ms);
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  snapshot(): LoadTimeHistogram {
    let cumulative = 0;
    const buckets = this.counts.map((c, i) => {
      cumulative += c;
      return { leMs: i < this.bounds.length ? (this.bounds[i] as number) : null, count: cumulative };
    });
    return { count: this.count, sumMs: this.sum, maxMs: this.max, buckets };
  }
}
