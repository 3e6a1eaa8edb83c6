import type { Clock } from './clock.js';

/**
 * Races `run(signal)` against a timer. On timeout the signal is aborted (a loader that honours it
 * stops) and the returned promise rejects at once, so a hung loader never pins its caller.
 */
export function withTimeout<T>(
  run: (signal: AbortSignal) => Promise<T>,
  ms: number,
  clock: Clock,
  controller: AbortController,
  onTimeout: () => Error,
): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return run(controller.signal);
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const error = onTimeout();
      controller.abort(error);
      reject(error);
    }, ms);
    let pending: Promise<T>;
    try {
      pending = run(controller.signal);
    } catch (error) {
      clock.clearTimeout(timer);
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
