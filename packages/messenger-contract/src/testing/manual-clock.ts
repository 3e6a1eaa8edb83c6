import type { Clock } from '../ports.js';

/** A Clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  /** The clock's current time, ms since the epoch. */
  now(): number {
    return this.current;
  }
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.current += ms;
  }
  /** Jumps to `ms` milliseconds since the epoch (may go backwards). */
  set(ms: number): void {
    this.current = ms;
  }
}

/** A manual clock starting at `start` ms since the epoch (default 2026-01-01T00:00:00Z); see docs/conventions.md. */
export function createManualClock(start?: number): ManualClock {
  return new ManualClock(start);
}
