import { describe, expect, it } from 'vitest';
import { FakeLoader, flush } from '../test/helpers.js';
import { CoarseClock } from './coarse-clock.js';
import { type Clock, createConfigCache } from './index.js';

/** A clock moved by hand whose timers fire only when told: "the event loop has not turned yet". */
class HandClock implements Clock {
  time = 1_000_000;
  reads = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now(): number {
    this.reads++;
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves the time without running timers (a synchronous burst, or a blocked loop). */
  set(time: number): void {
    this.time = time;
  }
  /** Moves the time and runs the timers that fell due. */
  advance(ms: number): void {
    this.time += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at > this.time) continue;
      this.timers.delete(id);
      timer.callback();
    }
  }
  get pending(): number {
    return this.timers.size;
  }
}

describe('CoarseClock', () => {
  it('reuses one sample until its timer fires, then samples again', () => {
    const clock = new HandClock();
    const coarse = new CoarseClock(clock, 1);
    expect(coarse.now()).toBe(1_000_000);
    clock.set(1_000_000.5);
    expect(coarse.now()).toBe(1_000_000);
    expect(clock.reads).toBe(1);
    expect(clock.pending).toBe(1);
    clock.advance(0.5);
    expect(coarse.now()).toBe(1_000_001);
    expect(clock.reads).toBe(2);
  });

  it('reads the clock every time at resolution 0 and leaves no timer', () => {
    const clock = new HandClock();
    const coarse = new CoarseClock(clock, 0);
    coarse.now();
    clock.set(1_000_005);
    expect(coarse.now()).toBe(1_000_005);
    expect(clock.reads).toBe(2);
    expect(clock.pending).toBe(0);
  });

  it('stop clears the timer and the sample', () => {
    const clock = new HandClock();
    const coarse = new CoarseClock(clock, 1);
    coarse.now();
    coarse.stop();
    expect(clock.pending).toBe(0);
    clock.set(1_000_009);
    expect(coarse.now()).toBe(1_000_009);
  });
});

describe('config-cache hits on the coarse clock: expiry boundaries stay exact', () => {
  async function warm(clock: HandClock, options: { graceMs: number; timeResolutionMs?: number }) {
    const loader = new FakeLoader<{ v: number }>();
    loader.data.set('k', { v: 1 });
    const cache = createConfigCache<{ v: number }>({
      loader,
      clock,
      random: () => 0, // refresh-after exactly 60 s
      fullRefreshIntervalMs: 0,
      ...options,
    });
    await cache.get('k');
    return { loader, cache, loadedAt: clock.time };
  }

  it('a burst of hits reads the clock once', async () => {
    const clock = new HandClock();
    const { cache } = await warm(clock, { graceMs: 30_000 });
    clock.advance(5);
    const before = clock.reads;
    for (let i = 0; i < 1_000; i++) expect(cache.peek('k')).toEqual({ v: 1 });
    for (let i = 0; i < 100; i++) await cache.get('k');
    expect(clock.reads - before).toBe(1);
    expect(cache.metrics().hits).toBe(1_100);
    await cache.close();
    expect(clock.pending).toBe(0);
  });

  it('one millisecond before refresh-after is fresh, at refresh-after it is stale, even with a sample held', async () => {
    const clock = new HandClock();
    const { loader, cache, loadedAt } = await warm(clock, { graceMs: 30_000 });
    clock.advance(59_998);
    expect(cache.peek('k')).toEqual({ v: 1 }); // fast path: the sample is 2 ms before the refresh point
    clock.advance(1); // the sample's timer runs: the next read samples 59 999
    expect(cache.peek('k')).toEqual({ v: 1 }); // within a resolution of the point: checked exactly, fresh
    expect(cache.metrics()).toMatchObject({ hits: 2, staleHits: 0 });
    clock.set(loadedAt + 60_000); // no timer ran: the sample still says 59 999
    expect(cache.peek('k')).toEqual({ v: 1 });
    expect(cache.metrics()).toMatchObject({ hits: 2, staleHits: 1 });
    await flush();
    expect(loader.loads).toEqual(['k', 'k']); // the stale hit started the one background reload
    await cache.close();
  });

  it('expire-after is exact with grace 0: the last millisecond serves, the next one loads', async () => {
    const clock = new HandClock();
    const { loader, cache, loadedAt } = await warm(clock, { graceMs: 0 });
    clock.advance(59_999);
    expect(cache.peek('k')).toEqual({ v: 1 });
    clock.set(loadedAt + 60_000); // sample held from 59 999
    expect(cache.peek('k')).toBeUndefined();
    loader.data.set('k', { v: 2 });
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
    await cache.close();
  });

  it('timeResolutionMs 0 reads the clock on every hit', async () => {
    const clock = new HandClock();
    const { cache } = await warm(clock, { graceMs: 30_000, timeResolutionMs: 0 });
    const before = clock.reads;
    for (let i = 0; i < 10; i++) cache.peek('k');
    expect(clock.reads - before).toBe(10);
    expect(clock.pending).toBe(0);
    await cache.close();
  });
});
