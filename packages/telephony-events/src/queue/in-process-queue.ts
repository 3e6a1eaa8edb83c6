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

export interface InProcessQueueOptions extends QueueRetryOptions {
  /** Jobs run at once (default 16); per-enterprise limits live in the delivery policies. */
  concurrency?: number;
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
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let running = 0;
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
      void execute(entry, handler, deadLetter).finally(() => {
        running--;
        pump();
        notifyIdle();
      });
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
    if (result.outcome === 'retry' && !closed) {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          ready.push({ ...entry, attempt: entry.attempt + 1 });
          pump();
          notifyIdle();
        },
        Math.max(0, retryDelayMs(entry.attempt)),
      );
      timers.add(timer);
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
      if (closed) throw new Error('queue is closed');
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
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      ready.length = 0;
      if (running > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      notifyIdle();
    },
  };
}
