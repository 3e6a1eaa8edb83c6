import { describeError, TelephonyEventsError } from '../errors.js';
import type { Clock } from '../ports.js';
import { systemClock } from '../ports.js';
import { runAttempt } from './attempt.js';
import {
  type DeadLetterHandler,
  type DeliveryJob,
  type DeliveryQueue,
  defaultRetryDelayMs,
  type EnqueueResult,
  type JobHandler,
  type QueueRetryOptions,
  type QueueStats,
} from './types.js';

/** Tuning of the in-process queue (jobs live in memory and are lost with the process). */
export interface InProcessQueueOptions extends QueueRetryOptions {
  /** Jobs run at once (default 16); per-enterprise limits live in the delivery policies. */
  concurrency?: number;
  /** Time source of the dedupe window and dead letters' `failedAt` (default {@link systemClock}). */
  clock?: Clock;
  /** Bound on remembered ids for de-duplication (default 100 000). */
  maxRememberedIds?: number;
}

interface Entry {
  job: DeliveryJob;
  attempt: number;
  steps: Set<string>;
}

/**
 * The default queue: jobs live in this process's memory. Fast and dependency-free, but a crash loses every job not
 * yet delivered (waiting, delayed for a retry, or running); use the Redis queue when that matters.
 */
export function createInProcessQueue(options: InProcessQueueOptions = {}): DeliveryQueue {
  const clock = options.clock ?? systemClock;
  const maxAttempts = Math.max(1, options.attempts ?? 5);
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
  const maxRemembered = options.maxRememberedIds ?? 100_000;
  const concurrency = Math.max(1, options.concurrency ?? 16);

  const seen = new Map<string, number>(); // id -> expiry; insertion order = age order
  const ready: Entry[] = [];
  /** Jobs waiting out a retry delay, by their timer. */
  const timers = new Map<ReturnType<typeof setTimeout>, Entry>();
  let running = 0;
  const active = new Set<Promise<void>>();
  let handler: JobHandler | undefined;
  let deadLetter: DeadLetterHandler | undefined;
  let closed = false;
  let idleWaiters: Array<() => void> = [];
  const stats: QueueStats = { enqueued: 0, duplicates: 0, completed: 0, failedAttempts: 0, deadLettered: 0 };

  const isIdle = () => ready.length === 0 && running === 0 && timers.size === 0;
  const notifyIdle = () => {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const pump = () => {
    if (!handler || !deadLetter || closed) return;
    while (running < concurrency && ready.length > 0) {
      const entry = ready.shift() as Entry;
      running++;
      const task: Promise<void> = execute(entry, handler, deadLetter).finally(() => {
        active.delete(task);
        running--;
        pump();
        notifyIdle();
      });
      active.add(task);
    }
  };

  const execute = async (entry: Entry, run: JobHandler, onDead: DeadLetterHandler) => {
    const context = {
      attempt: entry.attempt,
      isStepDone: (step: string) => entry.steps.has(step),
      markStepDone: async (step: string) => {
        entry.steps.add(step);
      },
    };
    const result = await runAttempt(entry.job, context, maxAttempts, run, onDead, clock.now);
    if (result.outcome === 'completed') stats.completed++;
    else stats.failedAttempts++;
    if (result.outcome === 'dead') stats.deadLettered++;
    if (result.outcome === 'retry') {
      const next = { ...entry, attempt: entry.attempt + 1 };
      // Closing: it will not run here any more; close() hands it to the dead letters.
      if (closed) {
        ready.push(next);
        return;
      }
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          ready.push(next);
          pump();
          notifyIdle();
        },
        Math.max(0, retryDelayMs(entry.attempt)),
      );
      timers.set(timer, next);
    }
  };

  const remember = (id: string): boolean => {
    const now = clock.now();
    const expiry = seen.get(id);
    if (expiry !== undefined && expiry > now) return false;
    seen.delete(id);
    seen.set(id, now + dedupeWindowMs);
    // Oldest first: drop expired ids, and the oldest ones beyond the bound.
    for (const [key, until] of seen) {
      if (until > now && seen.size <= maxRemembered) break;
      seen.delete(key);
    }
    return true;
  };

  return {
    async enqueue(job: DeliveryJob): Promise<EnqueueResult> {
      if (closed)
        throw new TelephonyEventsError('queue_closed', 'the in-process queue is closed', { isRetryable: true });
      if (!remember(job.id)) {
        stats.duplicates++;
        return 'duplicate';
      }
      stats.enqueued++;
      ready.push({ job, attempt: 1, steps: new Set() });
      pump();
      return 'enqueued';
    },
    async start(run, onDead) {
      handler = run;
      deadLetter = onDead;
      pump();
    },
    onIdle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...active]);
      // Jobs that will never run here are handed to the dead letters (code `queue_closed`), not dropped silently.
      const unrun = [...ready, ...timers.values()];
      for (const timer of timers.keys()) clearTimeout(timer);
      timers.clear();
      ready.length = 0;
      notifyIdle();
      const onDead = deadLetter;
      if (!onDead) return;
      const error = describeError(
        new TelephonyEventsError('queue_closed', 'the in-process queue was closed before this job was delivered', {
          isRetryable: true,
        }),
      );
      for (const entry of unrun) {
        stats.deadLettered++;
        try {
          await onDead({ job: entry.job, error, attempts: entry.attempt - 1, failedAt: new Date(clock.now()) });
        } catch {
          // Same rule as runAttempt: a throwing dead-letter hook must not break shutdown.
        }
      }
    },
  };
}
