import type { EventType } from '../events/schema.js';
import type { CallTrace } from '../ports.js';
import type { DeliveryJob } from '../queue/types.js';
import type { UploadBatcher } from './upload-batcher.js';

/** How a sink makes CRM calls: each named step runs once per job, under the policies, and is logged. */
export interface SinkCalls {
  /**
   * Runs one step of the delivery; resolves with its answer, or `undefined` when an earlier attempt of the job
   * already did it. A failure rejects (the queue retries the job).
   */
  call<T>(step: {
    /** Unique within the job, e.g. `callEvent` or `upload`; a done step is skipped on later attempts. */
    name: string;
    /** Logged operation, e.g. `telephony.callEvent`. */
    operation: string;
    /** What is sent, as logged (after masking `secrets`). */
    request: unknown;
    /** Values masked out of the integration log (API keys). */
    secrets?: string[];
    /** Makes the CRM call; pass `signal` on so a timed-out call is cancelled. */
    run: (signal: AbortSignal) => Promise<T>;
    /** Which call the logged row is about. */
    trace?: CallTrace;
    /** A successful answer that still lost something: logged as `warning` with this message. */
    assess?: (response: T) => string | undefined;
    /**
     * `run` shares one request with other jobs (an {@link UploadBatcher}), which runs it under the policies itself:
     * not executed under them again per job (one rate token per HTTP request, not per job). Still logged per job.
     */
    batched?: boolean;
  }): Promise<T | undefined>;
}

/** Why a sink did nothing for a job (counted in stats, never an error). */
export type SinkSkip = {
  /** The reason, a short code (e.g. `disabled`, `internal_call`) used as the stats key. */
  skipped: string;
  /** With a trace, the skip is written to the integration log (status `skipped`), so the call can be followed. */
  trace?: CallTrace;
  /** Extra facts for that row (e.g. the flag that was off). */
  detail?: Record<string, unknown>;
};
/** What a sink did with a job: made its CRM calls, or skipped it on purpose. */
export type SinkOutcome = 'delivered' | SinkSkip;

/** One CRM target of the pipeline (e.g. RetailCRM). */
export interface CrmSink {
  /** Key in the enablement matrix, e.g. `retailcrm`. */
  readonly name: string;
  /** Event types that cause CRM calls; others are not enqueued for this sink (e.g. bridge). */
  accepts(eventType: EventType): boolean;
  /** Makes the job's CRM calls through `calls`; a rejection is retried by the queue (or dead-lettered). */
  deliver(job: DeliveryJob, calls: SinkCalls): Promise<SinkOutcome>;
}
