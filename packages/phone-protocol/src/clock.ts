/** Injected wall clock (epoch milliseconds) so tokens, TTLs and deadlines are testable. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Manually advanced clock for tests. */
export class ManualClock implements Clock {
  constructor(private current = 1_767_225_600_000) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
