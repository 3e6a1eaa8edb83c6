import { isRetryableError } from '../errors.js';
import type { CallRecord, RetailCrmTelephonyApi, UploadCallsResponse } from '../ports.js';
import type { DeliveryPolicies } from './policies.js';

/** RetailCRM's cap on one `telephony/calls/upload` request. */
export const MAX_CALLS_PER_UPLOAD = 50;

/** Tuning of {@link createUploadBatcher}. */
export interface UploadBatcherOptions {
  /** The policies every batch runs under: one `execute` (one rate token, one bulkhead slot) per HTTP request. */
  policies: DeliveryPolicies;
  /** How long the first record of a batch waits for others of its enterprise (default 150 ms). */
  windowMs?: number;
  /** Records per request (default and maximum 50, RetailCRM's cap per `calls/upload`). */
  maxCalls?: number;
}

/** One call record to upload for one account. */
export interface UploadRequest {
  /** Whose upload it is: records are batched per enterprise and CRM. */
  target: {
    /** The enterprise (tenant); its rate limit and bulkhead apply to the request. */
    enterpriseNumber: string;
    /** The CRM sink name, e.g. `retailcrm`. */
    crm: string;
  };
  /** The account's API; records of one enterprise given a different API (its key changed) go in a new batch. */
  api: Pick<RetailCrmTelephonyApi, 'uploadCalls'>;
  /** The call to add to the history. */
  record: CallRecord;
  /**
   * Quick in-call retries of the request (default: the policies'); 0 for a caller that retries durably itself (an
   * outbox with its own backoff). Records with different values never share a request.
   */
  retries?: number;
}

/**
 * Coalesces history uploads per enterprise into `calls/upload` requests of up to 50 records, sent within a short
 * window. A batch whose window closed keeps taking records until the rate limiter lets its request start, so an
 * account at its limit sends fewer, fuller requests. Each caller still gets its own outcome: its share of the answer,
 * or the error that sank its record.
 */
export interface UploadBatcher {
  /**
   * Adds the record to its enterprise's next batch; resolves once that request succeeded (the record's share of the
   * answer: `processedCallsCount` 0 or 1, `duplicateCalls` with its `externalId` when RetailCRM already had it),
   * rejects with the batch's error (retryable: retry the job) or the record's own (RetailCRM refused it).
   */
  upload(request: UploadRequest): Promise<UploadCallsResponse>;
  /** Sends every waiting batch now and resolves when they are answered (shutdown, tests). */
  flush(): Promise<void>;
  /** HTTP requests made and records carried, since creation. */
  stats(): {
    /** `calls/upload` requests sent, each retry counted. */
    requests: number;
    /** Records carried by those requests (a retried record counted again). */
    records: number;
  };
}

interface Waiting {
  record: CallRecord;
  resolve(response: UploadCallsResponse): void;
  reject(error: unknown): void;
}

interface Batch {
  key: string;
  target: UploadRequest['target'];
  retries: number | undefined;
  api: UploadRequest['api'];
  items: Waiting[];
  timer?: NodeJS.Timeout;
  /** The window closed: the batch waits for its rate token (still taking records until the request starts). */
  sent: boolean;
}

/** The record's share of a batch answer. */
function shareOf(response: UploadCallsResponse, record: CallRecord): UploadCallsResponse {
  const duplicate = record.externalId !== undefined && (response.duplicateCalls ?? []).includes(record.externalId);
  return {
    success: true,
    processedCallsCount: duplicate ? 0 : 1,
    duplicateCalls: duplicate ? [record.externalId as string] : [],
  };
}

/** Indexes of the records RetailCRM named in a refusal (`calls[3].date: Invalid date format.`). */
export function refusedRecordIndexes(error: unknown, size: number): Set<number> {
  const found = new Set<number>();
  const errors = (error as { errors?: unknown } | undefined)?.errors;
  const texts =
    errors && typeof errors === 'object'
      ? Array.isArray(errors)
        ? errors.map(String)
        : Object.entries(errors).map(([key, value]) => `${key} ${String(value)}`)
      : [];
  for (const text of texts) {
    for (const match of text.matchAll(/calls\[(\d+)\]/g)) {
      const index = Number(match[1]);
      if (index < size) found.add(index);
    }
  }
  return found;
}

/** Builds an {@link UploadBatcher}; records share a request only when they go through the same batcher. */
export function createUploadBatcher(options: UploadBatcherOptions): UploadBatcher {
  const windowMs = options.windowMs ?? 150;
  const maxCalls = Math.min(MAX_CALLS_PER_UPLOAD, Math.max(1, options.maxCalls ?? MAX_CALLS_PER_UPLOAD));
  const open = new Map<string, Batch>(); // enterprise|crm|retries -> the batch still taking records
  const inFlight = new Set<Promise<void>>();
  const counters = { requests: 0, records: 0 };

  /** No more records join the batch (full, or its request is starting). */
  const seal = (batch: Batch) => {
    if (open.get(batch.key) === batch) open.delete(batch.key);
  };

  /**
   * One request for the batch's records, or for `fixed` ones (a resend after a refusal). The records are taken when
   * the request starts, after the rate limiter let it through: under load a batch keeps filling while it waits.
   */
  const request = async (batch: Batch, fixed?: Waiting[]): Promise<void> => {
    let items = fixed;
    const take = () => {
      if (!items) {
        seal(batch);
        items = batch.items;
      }
      return items;
    };
    try {
      const response = await options.policies.execute(
        batch.target,
        (signal) => {
          const records = take().map((item) => item.record);
          counters.requests++;
          counters.records += records.length;
          return batch.api.uploadCalls(records, { signal });
        },
        undefined,
        batch.retries === undefined ? undefined : { retries: batch.retries },
      );
      for (const item of take()) item.resolve(shareOf(response, item.record));
    } catch (error) {
      const all = take();
      // RetailCRM validates the whole request: one bad record refuses all. Fail only the records it named and send
      // the others again; when it names none, send each record alone so the bad one is found.
      if (all.length > 1 && !isRetryableError(error)) {
        const refused = refusedRecordIndexes(error, all.length);
        for (const index of refused) all[index]?.reject(error);
        const rest = all.filter((_, index) => !refused.has(index));
        if (refused.size) await request(batch, rest);
        else await Promise.all(rest.map((item) => request(batch, [item])));
        return;
      }
      for (const item of all) item.reject(error);
    }
  };

  const send = (batch: Batch) => {
    if (batch.sent) return;
    batch.sent = true;
    clearTimeout(batch.timer);
    const sending = request(batch).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  return {
    upload({ target, api, record, retries }) {
      const key = `${target.enterpriseNumber}|${target.crm}|${retries ?? ''}`;
      let batch = open.get(key);
      if (batch && batch.api !== api) {
        seal(batch);
        send(batch);
        batch = undefined;
      }
      if (!batch) {
        const created: Batch = { key, target, retries, api, items: [], sent: false };
        created.timer = setTimeout(() => send(created), windowMs);
        open.set(key, created);
        batch = created;
      }
      const current = batch;
      const answer = new Promise<UploadCallsResponse>((resolve, reject) => {
        current.items.push({ record, resolve, reject });
      });
      if (current.items.length >= maxCalls) {
        seal(current);
        send(current);
      }
      return answer;
    },
    async flush() {
      for (const batch of [...open.values()]) send(batch);
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    stats: () => ({ ...counters }),
  };
}
