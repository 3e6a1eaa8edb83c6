/** Injected wall clock (epoch milliseconds) so tokens, TTLs and deadlines are testable. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };
