import type { Clock } from '../clock.js';

/** A {@link Clock} that moves only when the test says so. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`. */
  advance(ms: number): void;
  /** Jumps to `ms` since the epoch. */
  set(ms: number): void;
}

/** A manual clock starting at `start` ms since the epoch (default 2026-01-01T00:00:00Z). */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(ms) {
      current = ms;
    },
  };
}
