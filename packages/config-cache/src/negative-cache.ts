/**
 * Bounded set of keys known to be absent, each with an expiry. Map insertion order gives
 * cheap eviction of the oldest entry when full, so a scan of random keys cannot grow memory.
 */
export class NegativeCache {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxSize: number,
    private readonly ttlMs: number,
  ) {}

  has(key: string, now: number): boolean {
    const expiresAt = this.entries.get(key);
    if (expiresAt === undefined) return false;
    if (now >= expiresAt) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, now: number): void {
    if (this.maxSize <= 0 || this.ttlMs <= 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, now + this.ttlMs);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
