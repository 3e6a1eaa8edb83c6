/** Time port: injected so retries, timeouts and the rate limiter are testable without real waiting. */
export interface RetailCrmClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Uniform random number in [0, 1). */
export type RandomSource = () => number;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** Real clock. Timers are unref'd so a pending backoff never keeps a process alive. */
export const systemClock: RetailCrmClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = () => {
        globalThis.clearTimeout(handle);
        reject(abortReason(signal as AbortSignal));
      };
      const handle = globalThis.setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      (handle as { unref?: () => void }).unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
