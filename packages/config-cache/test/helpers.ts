import type { ConfigCacheLoader } from '../src/index.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader over a mutable map that records every call and can be paused per call. */
export class FakeLoader<V> implements ConfigCacheLoader<V> {
  readonly data = new Map<string, V>();
  readonly loads: string[] = [];
  loadAllCalls = 0;
  signals: AbortSignal[] = [];
  /** When set, the next load/loadAll waits for this gate (consumed once). */
  gates: Array<Deferred<void>> = [];
  allGates: Array<Deferred<void>> = [];
  failNext: unknown[] = [];
  failNextAll: unknown[] = [];
  running = 0;
  maxRunning = 0;

  async load(key: string, signal: AbortSignal): Promise<V | undefined> {
    this.loads.push(key);
    this.signals.push(signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      // Read first, deliver later: like a database row that is read, then delayed in transit.
      const value = this.data.get(key);
      const gate = this.gates.shift();
      if (gate) await gate.promise;
      if (this.failNext.length > 0) throw this.failNext.shift();
      return value;
    } finally {
      this.running--;
    }
  }

  async loadAll(signal: AbortSignal): Promise<Iterable<readonly [string, V]>> {
    this.loadAllCalls++;
    this.signals.push(signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const rows = [...this.data.entries()];
      const gate = this.allGates.shift();
      if (gate) await gate.promise;
      if (this.failNextAll.length > 0) throw this.failNextAll.shift();
      return rows;
    } finally {
      this.running--;
    }
  }
}

/** Lets pending promise callbacks run (fake timers do not advance on their own). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
