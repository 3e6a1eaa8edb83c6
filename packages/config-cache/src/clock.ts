/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Time port: injected so tests are deterministic (fake timers or a hand-driven clock). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once after `ms`; the handle cancels it. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired yet (a fired or unknown handle is ignored). */
  clearTimeout(handle: TimerHandle): void;
}

/** Uniform random number in [0, 1). */
export type RandomSource = () => number;

/**
 * System clock. Globals are looked up on every call (not captured at import) so that
 * `vi.useFakeTimers()` installed after import still takes effect. Timers are unref'd:
 * background refreshes never keep a process alive.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = globalThis.setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Uniform value in [min, max]. */
export function between(random: RandomSource, min: number, max: number): number {
  return max <= min ? min : min + (max - min) * random();
}
