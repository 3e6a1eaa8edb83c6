import { backoffDelay } from '../backoff.js';
import type { ErrorInfo } from '../errors.js';
import type { TelephonyEvent } from '../events/schema.js';

/** One delivery of one event to one CRM. `id` is the idempotency key (enterprise|UniqueId|event type|crm). */
export interface DeliveryJob {
  /** Idempotency key `enterprise|UniqueId|event type|crm`: a second job with it inside the dedupe window is not run. */
  id: string;
  /** The enterprise (tenant) the event came from. */
  enterpriseNumber: string;
  /** Name of the CRM sink that delivers it, a key of the enablement matrix (e.g. `retailcrm`). */
  crm: string;
  /** The validated PBX event, its credentials (the PBX `Token`) masked. */
  event: TelephonyEvent;
  /** When the pipeline accepted the event (ms since epoch). */
  receivedAt: number;
}

/** Per-attempt context: which steps of a multi-call delivery already succeeded (persisted across attempts). */
export interface JobContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Whether `step` succeeded in an earlier attempt (so it must not be sent again). */
  isStepDone(step: string): boolean;
  /** Records that `step` succeeded; resolves once the mark is stored where later attempts read it. */
  markStepDone(step: string): Promise<void>;
}

/** Delivers one job; a rejection is retried unless the error has `isRetryable === false`. */
export type JobHandler = (job: DeliveryJob, context: JobContext) => Promise<void>;

/** A job the queue gave up on. */
export interface DeadLetter {
  /** The job as it was enqueued. */
  job: DeliveryJob;
  /** The last attempt's error, reduced to plain data. */
  error: ErrorInfo;
  /** How many attempts were made. */
  attempts: number;
  /** When the job was given up. */
  failedAt: Date;
}

/** Called once when a job is given up (retries exhausted or a non-retryable error). */
export type DeadLetterHandler = (entry: DeadLetter) => void | Promise<void>;

/** `duplicate`: a job with the same id was already enqueued within the dedupe window, so this one will not run. */
export type EnqueueResult = 'enqueued' | 'duplicate';

/** Counters of one queue instance since it was created. */
export interface QueueStats {
  /** Jobs accepted for delivery. */
  enqueued: number;
  /** Jobs rejected as duplicates of an id within the dedupe window. */
  duplicates: number;
  /** Jobs whose handler succeeded. */
  completed: number;
  /** Handler attempts that failed (each retry counts). */
  failedAttempts: number;
  /** Jobs given up and handed to the dead-letter handler. */
  deadLettered: number;
}

/**
 * Job queue port. Contract (tests/queue-contract): a job id enqueued again within the dedupe window is reported as
 * `duplicate` and not run; a handler error is retried after `retryDelayMs(attempt)` up to `attempts` times unless the
 * error has `isRetryable === false`; a job given up reaches the dead-letter handler exactly once; steps marked done
 * stay done on later attempts.
 */
export interface DeliveryQueue {
  /** Stores the job for delivery (durably, for a persistent queue) or reports it a duplicate. */
  enqueue(job: DeliveryJob): Promise<EnqueueResult>;
  /** Begins running jobs with `handler` (where this instance runs jobs at all); jobs given up go to `onDeadLetter`. */
  start(handler: JobHandler, onDeadLetter: DeadLetterHandler): Promise<void>;
  /** Resolves when nothing is waiting, delayed or running (tests, graceful shutdown). */
  onIdle(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): QueueStats;
  /**
   * Stops taking jobs, lets running ones finish (within the implementation's bound) and releases connections; the
   * implementation says what becomes of jobs not yet run (kept in Redis, or dead-lettered in memory).
   */
  close(): Promise<void>;
}

/** Retry and de-duplication settings every queue implementation takes. */
export interface QueueRetryOptions {
  /** Total attempts per job (default 5). */
  attempts?: number;
  /** Delay before attempt n+1 after attempt n failed (default: 1 s, 4 s, 16 s, ... capped at 60 s). */
  retryDelayMs?: (attempt: number) => number;
  /** How long a delivered id keeps rejecting duplicates (default 10 min). */
  dedupeWindowMs?: number;
}

export const defaultRetryDelayMs = (attempt: number) =>
  backoffDelay(attempt, { initialMs: 1000, maxMs: 60_000, factor: 4, jitter: false });
