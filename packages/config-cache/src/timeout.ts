import type { Clock } from './clock.js';

/**
 * Races `run(signal)` against a timer and against `controller` being aborted (e.g. by `close()`). On timeout the
 * signal is aborted (a loader that honours it stops) and the returned promise rejects at once, so neither a hung
 * loader nor one that ignores its signal can pin its caller. `ms <= 0` (or not finite) means no timer.
 */
export function withTimeout<T>(
  run: (signal: AbortSignal) => Promise<T>,
  ms: number,
  clock: Clock,
  controller: AbortController,
  onTimeout: () => Error,
): Promise<T> {
  const { signal } = controller;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = Number.isFinite(ms) && ms > 0 ? clock.setTimeout(() => controller.abort(onTimeout()), ms) : undefined;
    const settle = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = run(signal);
    } catch (error) {
      settle();
      reject(error);
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
