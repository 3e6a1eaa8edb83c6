import { type Clock, systemClock } from '../ports.js';

/**
 * Where a finished call's history upload waits for its recording. RetailCRM cannot attach a recording to a call it
 * already has (a second upload of the same `externalId` is answered `duplicateCalls` and ignored), so the upload of
 * a hangup without a recording waits up to the enterprise's window; a `download` carrying the recording hands it
 * over and the upload goes out at once. Per process: with several instances a download handled elsewhere uploads
 * on its own (then the later upload is a harmless duplicate, or a `warning` if it was the one with the recording).
 */
export interface RecordingHold {
  /** Hands `url` to an upload waiting for `key`; false when none waits (the caller uploads it itself). */
  offer(key: string, url: string): boolean;
  /** Records that `key` was uploaded already (with its recording): a later wait returns at once. */
  markUploaded(key: string): void;
  /** The recording of `key`, or undefined after `ms` (at once when `key` was uploaded already). */
  wait(key: string, ms: number): Promise<string | undefined>;
  /** Uploads waiting right now. */
  waiting(): number;
}

/** Tuning of {@link createRecordingHold}. */
export interface RecordingHoldOptions {
  /** How long an "uploaded already" mark is kept (default 10 min). */
  memoryMs?: number;
  /** Bound on remembered marks (default 10 000, oldest dropped). */
  maxRemembered?: number;
  /** Time source of the marks' expiry (default {@link systemClock}). */
  clock?: Clock;
}

/** Builds an in-process {@link RecordingHold}. */
export function createRecordingHold(options: RecordingHoldOptions = {}): RecordingHold {
  const clock = options.clock ?? systemClock;
  const memoryMs = options.memoryMs ?? 600_000;
  const maxRemembered = options.maxRemembered ?? 10_000;
  const waiters = new Map<string, Set<(url: string | undefined) => void>>();
  const uploaded = new Map<string, number>(); // key -> expiry, oldest first

  const prune = () => {
    const now = clock.now();
    for (const [key, until] of uploaded) {
      if (until > now && uploaded.size <= maxRemembered) break;
      uploaded.delete(key);
    }
  };

  return {
    offer(key, url) {
      const set = waiters.get(key);
      if (!set?.size) return false;
      waiters.delete(key);
      for (const resolve of set) resolve(url);
      return true;
    },
    markUploaded(key) {
      uploaded.delete(key);
      uploaded.set(key, clock.now() + memoryMs);
      prune();
    },
    wait(key, ms) {
      if ((uploaded.get(key) ?? 0) > clock.now() || ms <= 0) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const set = waiters.get(key) ?? new Set();
        waiters.set(key, set);
        const done = (url: string | undefined) => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
          resolve(url);
        };
        const timer = setTimeout(() => done(undefined), ms);
        set.add(done);
      });
    },
    waiting: () => [...waiters.values()].reduce((n, set) => n + set.size, 0),
  };
}
