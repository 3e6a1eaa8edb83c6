import { type RetailCrmClock, systemClock } from './clock.js';
import type { RateLimiter, RateLimitPermit } from './rate-limiter.js';
import { createWaiterQueue } from './waiter-queue.js';

/** What a {@link PacingStore} needs to decide whether one more request may go now. */
export interface PacingRequest {
  /** Unique per request; `complete` names it again. */
  id: string;
  /** Minimum spacing between sends (the token bucket's refill period, burst 1). */
  intervalMs: number;
  /** Requests the server allows per window. */
  limit: number;
  /** The window the server counts in. */
  windowMs: number;
  /** Upper bound of a request's life (timeout + window): a sender that dies mid-request stops counting then. */
  holdMs: number;
}

/**
 * Where pacing state lives: in this process ({@link createMemoryPacingStore}) or in Redis, shared by every
 * process using one API key (`@callbridge/retailcrm-client/redis`).
 *
 * Two rules decide a send. Pacing: one request per `intervalMs`. Guard: a request counts from its send until
 * `windowMs` after its answer came back, and at most `limit` may count at once. The server stamps a request
 * somewhere between our send and our receipt of the answer, so the guard keeps every server window at or under
 * the limit whatever the network delays; pacing keeps the flow smooth so the guard rarely has to act.
 */
export interface PacingStore {
  /** Takes a send slot for `request` now (resolves 0), or resolves how many ms to wait before asking again. */
  tryAcquire(request: PacingRequest): Promise<number>;
  /** The answer to request `id` arrived (or it failed): it keeps counting for `windowMs` from now. */
  complete(id: string, windowMs: number): Promise<void>;
}

/** Default safety margin: pace at 98 % of the limit. The completion guard covers jitter the margin does not. */
export const DEFAULT_SAFETY_MARGIN = 0.02;

/** How often to look again while every counted request is still in flight (its end is unknown). */
const IN_FLIGHT_POLL_MS = 5;

/** Options of {@link createPacingLimiter}. */
export interface PacingLimiterOptions {
  /** Requests per `windowMs` the server allows (RetailCRM: 10, or 40 for `/telephony/*`). */
  limit: number;
  /** Default 1000 ms. */
  windowMs?: number;
  /**
   * Fraction of the limit left unused by pacing (default {@link DEFAULT_SAFETY_MARGIN}): `limit` consecutive
   * sends span `windowMs / (1 - margin)`.
   */
  safetyMargin?: number;
  /** Upper bound of one request's life, for the guard (default 30 000 ms; keep it >= the client's timeout). */
  maxRequestMs?: number;
  /**
   * `true` (default): a request counts until one window after its answer, a hard bound whatever the delays.
   * `false`: pacing only; the margin alone must absorb the jitter between our sends and the server's arrivals.
   */
  answerGuard?: boolean;
  /** Time for pacing waits (default the system clock). */
  clock?: RetailCrmClock;
  /** Default: state private to this limiter (in-process). */
  store?: PacingStore;
}

/** Pacing state for one process. */
export function createMemoryPacingStore(clock: RetailCrmClock = systemClock): PacingStore {
  let next = Number.NEGATIVE_INFINITY;
  // id -> moment it stops counting (Infinity while in flight).
  const counted = new Map<string, number>();
  return {
    async tryAcquire(request) {
      const now = clock.now();
      if (now < next) return next - now;
      let earliestEnd = Number.POSITIVE_INFINITY;
      for (const [id, until] of counted) {
        if (until <= now) counted.delete(id);
        else earliestEnd = Math.min(earliestEnd, until);
      }
      if (counted.size >= request.limit) {
        return Number.isFinite(earliestEnd) ? Math.max(1, earliestEnd - now) : IN_FLIGHT_POLL_MS;
      }
      counted.set(request.id, now + request.holdMs);
      // Keep the schedule after a late timer (event-loop lag must not eat the budget: up to one interval, i.e.
      // at most two sends back to back); after a longer pause restart it from now.
      next = (now - next <= request.intervalMs ? next : now) + request.intervalMs;
      return 0;
    },
    async complete(id, windowMs) {
      if (counted.has(id)) counted.set(id, clock.now() + windowMs);
    },
  };
}

/**
 * Pacing limiter: spreads requests evenly (burst 1 at `limit * (1 - safetyMargin)` per window, like the official
 * Go client's `rate.NewLimiter(10, 1)` plus headroom) and never lets more than `limit` requests count within a
 * window of each other's answers (see {@link PacingStore}). The permit's `complete()` must be called when the
 * answer arrives; the transport does.
 *
 * Waiters are served first come, first served; a waiter cancelled before its turn costs nothing.
 */
export function createPacingLimiter(options: PacingLimiterOptions): RateLimiter {
  const limit = Math.max(1, Math.floor(options.limit));
  const windowMs = options.windowMs ?? 1000;
  const margin = options.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
  if (!(margin >= 0 && margin < 1)) throw new RangeError('safetyMargin must be in [0, 1)');
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemoryPacingStore(clock);
  // Callers are awaiting these waits: like an in-flight request, they keep the process alive (the system clock's
  // own timers are unref'd, which would let a script exit between two paced sends).
  const sleep =
    clock === systemClock
      ? (ms: number) => new Promise<void>((resolve) => globalThis.setTimeout(resolve, Math.max(0, ms)))
      : (ms: number) => clock.sleep(ms);
  const intervalMs = windowMs / (limit * (1 - margin));
  const holdMs = (options.maxRequestMs ?? 30_000) + windowMs;
  const guardLimit = options.answerGuard === false ? Number.POSITIVE_INFINITY : limit;
  const queue = createWaiterQueue<RateLimitPermit>(() => void pump());
  let pumping = false;

  const permitFor = (id: string): RateLimitPermit => {
    let completed = false;
    return {
      commit() {},
      complete() {
        if (completed) return;
        completed = true;
        // A store that cannot record the end only makes this request count longer (until holdMs).
        store.complete(id, windowMs).catch(() => undefined);
      },
    };
  };

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.size() > 0) {
        const id = globalThis.crypto.randomUUID();
        let waitMs: number;
        try {
          waitMs = await store.tryAcquire({ id, intervalMs, limit: guardLimit, windowMs, holdMs });
        } catch (error) {
          // The store is unreachable (e.g. Redis down): fail the waiters rather than send unpaced.
          queue.failAll(error);
          return;
        }
        if (waitMs > 0) {
          await sleep(waitMs);
          continue;
        }
        const permit = permitFor(id);
        // Everyone left meanwhile: give the slot back.
        if (!queue.serveNext(permit)) permit.complete?.();
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
