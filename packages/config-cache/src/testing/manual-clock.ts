import type { Clock, TimerHandle } from '../clock.js';

/** A {@link Clock} whose time and timers move only when the test says so. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void;
  /** Jumps to `ms` since the epoch; moving forward fires the timers due on the way, moving back fires none. */
  set(ms: number): void;
  /** Jumps to the earliest pending timer and fires it (and any due at the same instant); false if none. */
  advanceToNext(): boolean;
  /** Number of timers waiting to fire. */
  pending(): number;
  /**
   * Drives `promise` to completion: lets pending callbacks run, then jumps to the next timer, until the promise
   * settles. Throws when no timer is left and the promise still has not settled, or after `maxSteps` jumps.
   */
  run<T>(promise: Promise<T>, options?: { maxSteps?: number }): Promise<T>;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A manual clock starting at `start` ms since the epoch (default 2026-01-01T00:00:00Z). */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start;
  let seq = 0;
  const timers = new Map<TimerHandle, Timer>();

  const nextDue = (limit: number): [TimerHandle, Timer] | undefined => {
    let found: [TimerHandle, Timer] | undefined;
    for (const entry of timers) {
      const timer = entry[1];
      if (timer.at > limit) continue;
      if (!found || timer.at < found[1].at || (timer.at === found[1].at && timer.seq < found[1].seq)) found = entry;
    }
    return found;
  };

  // One timer at a time: a callback may set or clear others, which the next lookup sees.
  const fireUntil = (target: number) => {
    for (let due = nextDue(target); due; due = nextDue(target)) {
      timers.delete(due[0]);
      current = Math.max(current, due[1].at);
      due[1].callback();
    }
  };

  const clock: ManualClock = {
    now: () => current,
    setTimeout(callback, ms) {
      const handle = Symbol('timer');
      timers.set(handle, { at: current + Math.max(0, ms), seq: seq++, callback });
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle);
    },
    advance(ms) {
      const target = current + ms;
      fireUntil(target);
      current = target;
    },
    set(ms) {
      if (ms > current) fireUntil(ms);
      current = ms;
    },
    advanceToNext() {
      let earliest: number | undefined;
      for (const timer of timers.values()) if (earliest === undefined || timer.at < earliest) earliest = timer.at;
      if (earliest === undefined) return false;
      fireUntil(Math.max(current, earliest));
      return true;
    },
    pending: () => timers.size,
    async run(promise, options) {
      const maxSteps = options?.maxSteps ?? 10_000;
      let done = false;
      const tracked = promise.finally(() => {
        done = true;
      });
      tracked.catch(() => undefined);
      for (let steps = 0; ; steps++) {
        // Several turns: a loader's awaited chain must reach its next timer before time may jump.
        for (let i = 0; i < 10 && !done; i++) await turn();
        if (done) return tracked;
        if (steps >= maxSteps) throw new Error(`ManualClock.run: exceeded ${maxSteps} timer jumps`);
        if (!clock.advanceToNext())
          throw new Error('ManualClock.run: the promise never settled and no timer is pending');
      }
    },
  };
  return clock;
}
