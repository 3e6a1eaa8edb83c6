import { describe, expect, it } from 'vitest';
import { createManualClock } from './manual-clock.js';

describe('createManualClock', () => {
  it('fires timers in time order (ties in creation order) as time advances, never early', () => {
    const clock = createManualClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@50'), 50);
    clock.setTimeout(() => fired.push('a@20'), 20);
    clock.setTimeout(() => fired.push('c@50'), 50);
    clock.advance(19);
    expect(fired).toEqual([]);
    clock.advance(31);
    expect(fired).toEqual(['a@20', 'b@50', 'c@50']);
    expect(clock.now()).toBe(1_050);
    expect(clock.pending()).toBe(0);
  });

  it('a timer set by a firing callback fires within the same advance when due; cleared timers never fire', () => {
    const clock = createManualClock(0);
    const fired: number[] = [];
    const cleared = clock.setTimeout(() => fired.push(-1), 10);
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 10);
    }, 5);
    clock.clearTimeout(cleared);
    clock.advance(100);
    expect(fired).toEqual([5, 15]);
  });

  it('set() jumps forward firing due timers and backward firing none; advanceToNext() jumps to the next timer', () => {
    const clock = createManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 30);
    clock.setTimeout(() => fired.push(clock.now()), 70);
    clock.set(40);
    expect(fired).toEqual([30]);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(clock.advanceToNext()).toBe(true);
    expect(fired).toEqual([30, 70]);
    expect(clock.advanceToNext()).toBe(false);
  });

  it('run() drives a promise that waits on timers and fails loudly when nothing can settle it', async () => {
    const clock = createManualClock(0);
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const work = (async () => {
      await sleep(1_000);
      await sleep(60_000);
      return clock.now();
    })();
    await expect(clock.run(work)).resolves.toBe(61_000);
    await expect(clock.run(new Promise(() => undefined))).rejects.toThrow(/no timer is pending/);
  });
});
