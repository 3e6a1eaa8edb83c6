import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { DeadlineExceeded, withDeadline } from '../deadline.js';
import { TelephonyEventsError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
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

/** Where and how the BullMQ queue stores jobs; `connection` is the only required field. */
export interface RedisQueueOptions extends QueueRetryOptions {
  /** A `redis://` URL or an ioredis client (not closed by the queue when passed in). */
  connection: string | Redis;
  /** BullMQ key prefix (default `callbridge`); use a random one per test. */
  prefix?: string;
  /** BullMQ queue name (default `telephony-deliveries`). */
  queueName?: string;
  /** Jobs this instance runs at once (default 16). */
  concurrency?: number;
  /** Whether this instance also runs jobs (default true; false = producer only). */
  worker?: boolean;
  /** A running job's lock; if its worker dies, the job is retried after this long (default 30 000 ms). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died (default 30 000 ms). */
  stalledIntervalMs?: number;
  /**
   * `enqueue` gives up after this (default 2000 ms) with a retryable `queue_unavailable` error instead of waiting
   * for Redis to come back: the PBX side gets its answer and resends.
   */
  enqueueTimeoutMs?: number;
  /** `close()` waits this long for a graceful shutdown, then disconnects (default 10 000 ms). */
  closeTimeoutMs?: number;
  /** Receives Redis connection errors (ioredis reconnects by itself); default: ignored. */
  logger?: Logger;
  /** Time source of dead letters' `failedAt` (default {@link systemClock}); the dedupe window is Redis's TTL. */
  clock?: Clock;
}

/** A {@link DeliveryQueue} kept in Redis (BullMQ): jobs survive restarts and are shared by every instance. */
export interface RedisDeliveryQueue extends DeliveryQueue {
  /** Stops at once without waiting for running jobs: they stay in Redis and another instance runs them again. */
  closeNow(): Promise<void>;
}

interface StoredJob {
  job: DeliveryJob;
  steps?: string[];
}

/** Deletes the dedupe key (KEYS[1]) unless the BullMQ job hash (KEYS[2]) exists. */
const RELEASE_UNLESS_STORED =
  "if redis.call('exists', KEYS[2]) == 0 then return redis.call('del', KEYS[1]) end return 0";

// BullMQ forbids ':' in custom job ids.
const toJobId = (id: string) => id.replace(/:/g, '_');

/**
 * BullMQ-backed queue for several server instances: jobs survive a process crash (an interrupted job becomes
 * stalled and is run again by another worker), retries are BullMQ delayed jobs, `jobId` = idempotency key and a
 * `SET NX PX` key per id enforces the de-duplication window across instances.
 */
export function createRedisQueue(options: RedisQueueOptions): RedisDeliveryQueue {
  const clock = options.clock ?? systemClock;
  const prefix = options.prefix ?? 'callbridge';
  const queueName = options.queueName ?? 'telephony-deliveries';
  const maxAttempts = Math.max(1, options.attempts ?? 5);
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const owned: Redis[] = [];
  const connect = (): Redis => {
    const client =
      typeof options.connection === 'string'
        ? new Redis(options.connection, { maxRetriesPerRequest: null })
        : options.connection.duplicate({ maxRetriesPerRequest: null });
    // Without a listener ioredis prints every failed reconnect as an unhandled error.
    client.on('error', (error: Error) => options.logger?.warn({ err: error.message }, 'redis queue connection error'));
    return client;
  };
  const client = connect();
  owned.push(client);
  const queue = new Queue<StoredJob>(queueName, { connection: client, prefix });
  let worker: Worker<StoredJob> | undefined;
  const stats: QueueStats = { enqueued: 0, duplicates: 0, completed: 0, failedAttempts: 0, deadLettered: 0 };

  const processor = (handler: JobHandler, onDead: DeadLetterHandler) => async (job: Job<StoredJob>) => {
    const steps = new Set(job.data.steps ?? []);
    const context = {
      attempt: job.attemptsMade + 1,
      isStepDone: (step: string) => steps.has(step),
      markStepDone: async (step: string) => {
        steps.add(step);
        await job.updateData({ ...job.data, steps: [...steps] });
      },
    };
    const result = await runAttempt(job.data.job, context, maxAttempts, handler, onDead, clock.now);
    if (result.outcome === 'completed') {
      stats.completed++;
      return;
    }
    stats.failedAttempts++;
    if (result.outcome === 'dead') {
      stats.deadLettered++;
      return; // already dead-lettered; completing the BullMQ job stops its retries
    }
    throw result.error instanceof Error ? result.error : new Error(String(result.error));
  };

  return {
    async enqueue(job) {
      const dedupeKey = `${prefix}:${queueName}:dedupe:${job.id}`;
      // Runs to its end even after the deadline answered the caller: a SET and add that Redis only executes later
      // (slow, restarting) still store the job, and the id stays claimed, so the PBX's retry is a duplicate instead
      // of a second delivery. Only an add that failed releases the id, and only if the job did not land.
      const store = (async (): Promise<EnqueueResult> => {
        if ((await client.set(dedupeKey, '1', 'PX', dedupeWindowMs, 'NX')) !== 'OK') {
          stats.duplicates++;
          return 'duplicate';
        }
        try {
          await queue.add(
            'deliver',
            { job },
            {
              jobId: toJobId(job.id),
              attempts: maxAttempts,
              backoff: { type: 'custom' },
              removeOnComplete: true,
              removeOnFail: 1000,
            },
          );
        } catch (error) {
          await client.eval(RELEASE_UNLESS_STORED, 2, dedupeKey, queue.toKey(toJobId(job.id))).catch(() => undefined);
          throw error;
        }
        stats.enqueued++;
        return 'enqueued';
      })();
      store.catch(() => undefined); // after a deadline nobody awaits it
      try {
        return await withDeadline(store, enqueueTimeoutMs);
      } catch (error) {
        if (error instanceof DeadlineExceeded) {
          throw new TelephonyEventsError('queue_unavailable', `Redis did not answer within ${enqueueTimeoutMs} ms`, {
            isRetryable: true,
          });
        }
        throw error;
      }
    },
    async start(handler, onDead) {
      if (options.worker === false || worker) return;
      const workerConnection = connect();
      owned.push(workerConnection);
      worker = new Worker<StoredJob>(queueName, processor(handler, onDead), {
        connection: workerConnection,
        prefix,
        concurrency: options.concurrency ?? 16,
        ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
        ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
        settings: { backoffStrategy: (attemptsMade: number) => Math.max(0, retryDelayMs(attemptsMade)) },
      });
      worker.on('error', () => {
        // Connection blips are retried by ioredis; job errors are handled in the processor.
      });
      await worker.waitUntilReady();
    },
    async onIdle() {
      for (;;) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
        if (Object.values(counts).every((n) => n === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stats: () => ({ ...stats }),
    async close() {
      const graceful = async () => {
        await worker?.close();
        await queue.close();
        await Promise.all(owned.map((c) => c.quit()));
      };
      // With Redis away a graceful close never ends; running jobs stay in Redis and are retried elsewhere.
      await withDeadline(graceful(), closeTimeoutMs).catch(() => undefined);
      for (const c of owned) c.disconnect();
    },
    async closeNow() {
      await worker?.close(true);
      await queue.close();
      for (const c of owned) c.disconnect();
    },
  };
}
