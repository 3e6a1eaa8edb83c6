import type { RetailCrmClock } from '../clock.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A clock that only moves when the test says so; share it between the client and the fake. */
export interface ManualClock extends RetailCrmClock {
  /** Number of sleeps waiting for time to pass. */
  pending(): number;
  /** Moves time forward by `ms`, firing every timer due on the way in order. */
  advance(ms: number): void;
  /** Jumps to the earliest pending timer and fires it (and any due at the same instant); false if none. */
  advanceToNext(): boolean;
  /**
   * Drives `promise` to completion: waits until nothing has touched the clock for `quietTurns` event-loop
   * turns (default 20), then jumps to the next timer, until the promise settles. Throws if it would need more than `maxSteps` timer jumps.
   */
  run<T>(promise: Promise<T>, options?: { maxSteps?: number; quietTurns?: number }): Promise<T>;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A {@link ManualClock} whose time starts at `start` ms (default 0). */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let seq = 0;
  let timers: Timer[] = [];
  // Every now()/sleep() call counts as activity: run() only jumps time once the system has gone quiet.
  let activity = 0;

  const fireDue = () => {
    const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    timers = timers.filter((t) => t.at > now);
    for (const timer of due) timer.resolve();
  };

  const clock: ManualClock = {
    now: () => {
      activity++;
      return now;
    },
    sleep(ms, signal) {
      activity++;
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const timer: Timer = { at: now + Math.max(0, ms), seq: seq++, resolve: () => resolve() };
        timer.resolve = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          timers = timers.filter((t) => t !== timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
      });
    },
    pending: () => timers.length,
    advance(ms) {
      const target = now + ms;
      for (;;) {
        const next = timers.reduce<number | undefined>(
          (min, t) => (min === undefined || t.at < min ? t.at : min),
          undefined,
        );
        if (next === undefined || next > target) break;
        now = Math.max(now, next);
        fireDue();
      }
      now = target;
    },
    advanceToNext() {
      if (timers.length === 0) return false;
      now = Math.max(now, Math.min(...timers.map((t) => t.at)));
      fireDue();
      return true;
    },
    async run(promise, options) {
      const maxSteps = options?.maxSteps ?? 100_000;
      let done = false;
      const tracked = promise.finally(() => {
        done = true;
      });
      tracked.catch(() => undefined);
      const quietTurns = options?.quietTurns ?? 20;
      let steps = 0;
      let idle = 0;
      let quiet = 0;
      let seen = activity;
      while (!done) {
        await settle();
        if (done) break;
        if (activity !== seen) {
          seen = activity;
          quiet = 0;
          continue;
        }
        // In-flight work (msw interception) must reach its next clock call before time may jump.
        if (++quiet < quietTurns) continue;
        if (timers.length === 0) {
          if (++idle > 10_000) throw new Error('ManualClock.run: promise never settled and no timers are pending');
          continue;
        }
        idle = 0;
        quiet = 0;
        if (++steps > maxSteps) throw new Error(`ManualClock.run: exceeded ${maxSteps} timer jumps`);
        clock.advanceToNext();
        seen = activity;
      }
      return tracked;
    },
  };
  return clock;
}
