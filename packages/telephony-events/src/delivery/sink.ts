import type { EventType } from '../events/schema.js';
import type { DeliveryJob } from '../queue/types.js';

/** How a sink makes CRM calls: each named step runs once per job, under the policies, and is logged. */
export interface SinkCalls {
  call<T>(step: {
    /** Unique within the job, e.g. `callEvent` or `upload`; a done step is skipped on later attempts. */
    name: string;
    /** Logged operation, e.g. `telephony.callEvent`. */
    operation: string;
    request: unknown;
    /** Values masked out of the integration log (API keys). */
    secrets?: string[];
    run: (signal: AbortSignal) => Promise<T>;
  }): Promise<T | undefined>;
}

/** Why a sink did nothing for a job (counted in stats, never an error). */
export type SinkSkip = { skipped: string };
export type SinkOutcome = 'delivered' | SinkSkip;

/** One CRM target of the pipeline (e.g. RetailCRM). */
export interface CrmSink {
  /** Key in the enablement matrix, e.g. `retailcrm`. */
  readonly name: string;
  /** Event types that cause CRM calls; others are not enqueued for this sink (e.g. bridge). */
  accepts(eventType: EventType): boolean;
  deliver(job: DeliveryJob, calls: SinkCalls): Promise<SinkOutcome>;
}
