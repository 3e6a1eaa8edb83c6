import { type RetailCrmClock, systemClock } from './clock.js';
import { createWaiterQueue } from './waiter-queue.js';

/** A granted slot. Call `commit()` right before sending: the slot is counted from that moment. */
export interface RateLimitPermit {
  /** Idempotent. Until committed, the permit occupies a slot in every window. */
  commit(): void;
  /** Idempotent. The answer arrived (or the attempt failed); limiters that count until the answer need it. */
  complete?(): void;
}

/** At most `limit` requests SENT in any window of `windowMs`, waiters served first come, first served. */
export interface RateLimiter {
  /** Resolves with a permit once a request may be sent; rejects with the signal's reason when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<RateLimitPermit>;
  /** Waiters not yet granted. */
  queued(): number;
}

export interface SlidingWindowLimiterOptions {
  limit: number;
  windowMs?: number;
  clock?: RetailCrmClock;
}

/**
 * Sliding-log limiter: remembers when each of the last `limit` requests was actually sent, so the bound holds
 * for every window rather than aligned one-second buckets (RetailCRM counts per key in a sliding second).
 * A granted but not yet sent permit counts as "sent now" until committed: CPU stalls between the grant and
 * the send therefore cannot squeeze an extra request into a window.
 */
export function createSlidingWindowLimiter(options: SlidingWindowLimiterOptions): RateLimiter {
  const limit = Math.max(1, Math.floor(options.limit));
  const windowMs = options.windowMs ?? 1000;
  const clock = options.clock ?? systemClock;
  const sent: number[] = []; // ascending send times still inside the window
  const queue = createWaiterQueue<RateLimitPermit>(() => void pump());
  let uncommitted = 0;
  let pumping = false;

  const permit = (): RateLimitPermit => {
    let done = false;
    return {
      commit() {
        if (done) return;
        done = true;
        uncommitted--;
        sent.push(clock.now());
        void pump();
      },
    };
  };

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.size() > 0) {
        const now = clock.now();
        while (sent.length > 0 && sent[0]! <= now - windowMs) sent.shift();
        if (sent.length + uncommitted < limit) {
          uncommitted++;
          const granted = permit();
          if (!queue.serveNext(granted)) granted.commit();
          continue;
        }
        // Only expiring send times free a slot; with none, the next commit() restarts the pump.
        if (sent.length === 0) return;
        await clock.sleep(sent[0]! + windowMs - now);
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire: (signal) => queue.wait(signal),
    queued: () => queue.size(),
  };
}
