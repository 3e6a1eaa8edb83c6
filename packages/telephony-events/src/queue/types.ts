import { backoffDelay } from '../backoff.js';
import type { ErrorInfo } from '../errors.js';
import type { TelephonyEvent } from '../events/schema.js';

/** One delivery of one event to one CRM. `id` is the idempotency key (enterprise|UniqueId|event type|crm). */
export interface DeliveryJob {
  id: string;
  enterpriseNumber: string;
  crm: string;
  event: TelephonyEvent;
  /** When the pipeline accepted the event (ms since epoch). */
  receivedAt: number;
}

/** Per-attempt context: which steps of a multi-call delivery already succeeded (persisted across attempts). */
export interface JobContext {
  /** 1 for the first attempt. */
  attempt: number;
  isStepDone(step: string): boolean;
  markStepDone(step: string): Promise<void>;
}

export type JobHandler = (job: DeliveryJob, context: JobContext) => Promise<void>;

export interface DeadLetter {
  job: DeliveryJob;
  error: ErrorInfo;
  attempts: number;
  failedAt: Date;
}

/** Called once when a job is given up (retries exhausted or a non-retryable error). */
export type DeadLetterHandler = (entry: DeadLetter) => void | Promise<void>;

export type EnqueueResult = 'enqueued' | 'duplicate';

export interface QueueStats {
  enqueued: number;
  duplicates: number;
  completed: number;
  failedAttempts: number;
  deadLettered: number;
}

/**
 * Job queue port. Contract (tests/queue-contract): a job id enqueued again within the dedupe window is reported as
 * `duplicate` and not run; a handler error is retried after `retryDelayMs(attempt)` up to `attempts` times unless the
 * error has `isRetryable === false`; a job given up reaches the dead-letter handler exactly once; steps marked done
 * stay done on later attempts.
 */
export interface DeliveryQueue {
  enqueue(job: DeliveryJob): Promise<EnqueueResult>;
  start(handler: JobHandler, onDeadLetter: DeadLetterHandler): Promise<void>;
  /** Resolves when nothing is waiting, delayed or running (tests, graceful shutdown). */
  onIdle(): Promise<void>;
  stats(): QueueStats;
  close(): Promise<void>;
}

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
