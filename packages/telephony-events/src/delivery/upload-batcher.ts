import { isRetryableError } from '../errors.js';
import type { CallRecord, RetailCrmTelephonyApi, UploadCallsResponse } from '../ports.js';
import type { DeliveryPolicies } from './policies.js';

/** RetailCRM's cap on one `telephony/calls/upload` request. */
export const MAX_CALLS_PER_UPLOAD = 50;

export interface UploadBatcherOptions {
  /** The policies every batch runs under: one `execute` (one rate token, one bulkhead slot) per HTTP request. */
  policies: DeliveryPolicies;
  /** How long the first record of a batch waits for others of its enterprise (default 150 ms). */
  windowMs?: number;
  /** Records per request (default and maximum {@link MAX_CALLS_PER_UPLOAD}). */
  maxCalls?: number;
}

/** One call record to upload for one account. */
export interface UploadRequest {
  target: { enterpriseNumber: string; crm: string };
  /** The account's API; records of one enterprise given a different API (its key changed) go in a new batch. */
  api: Pick<RetailCrmTelephonyApi, 'uploadCalls'>;
  record: CallRecord;
  /**
   * Quick in-call retries of the request (default: the policies'); 0 for a caller that retries durably itself (an
   * outbox with its own backoff). Records with different values never share a request.
   */
  retries?: number;
}

/**
 * Coalesces history uploads per enterprise into `calls/upload` requests of up to 50 records, sent within a short
 * window. Each caller still gets its own outcome: its share of the answer, or the error that sank its record.
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
  stats(): { requests: number; records: number };
}

interface Waiting {
  record: CallRecord;
  resolve(response: UploadCallsResponse): void;
  reject(error: unknown): void;
}

interface Batch {
  target: UploadRequest['target'];
  retries: number | undefined;
  api: UploadRequest['api'];
  items: Waiting[];
  timer?: NodeJS.Timeout;
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

export function createUploadBatcher(options: UploadBatcherOptions): UploadBatcher {
  const windowMs = options.windowMs ?? 150;
  const maxCalls = Math.min(MAX_CALLS_PER_UPLOAD, Math.max(1, options.maxCalls ?? MAX_CALLS_PER_UPLOAD));
  const open = new Map<string, Batch>(); // enterprise|crm|retries -> the batch still taking records
  const inFlight = new Set<Promise<void>>();
  const counters = { requests: 0, records: 0 };

  const request = async (batch: Batch, items: Waiting[]): Promise<void> => {
    const records = items.map((item) => item.record);
    counters.requests++;
    counters.records += records.length;
    try {
      const response = await options.policies.execute(
        batch.target,
        (signal) => batch.api.uploadCalls(records, { signal }),
        undefined,
        batch.retries === undefined ? undefined : { retries: batch.retries },
      );
      for (const item of items) item.resolve(shareOf(response, item.record));
    } catch (error) {
      // RetailCRM validates the whole request: one bad record refuses all. Fail only the records it named and send
      // the others again; when it names none, send each record alone so the bad one is found.
      if (items.length > 1 && !isRetryableError(error)) {
        const refused = refusedRecordIndexes(error, items.length);
        for (const index of refused) items[index]?.reject(error);
        const rest = items.filter((_, index) => !refused.has(index));
        if (refused.size) await request(batch, rest);
        else await Promise.all(rest.map((item) => request(batch, [item])));
        return;
      }
      for (const item of items) item.reject(error);
    }
  };

  const send = (key: string, batch: Batch) => {
    if (open.get(key) === batch) open.delete(key);
    clearTimeout(batch.timer);
    const sending = request(batch, batch.items).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  return {
    upload({ target, api, record, retries }) {
      const key = `${target.enterpriseNumber}|${target.crm}|${retries ?? ''}`;
      let batch = open.get(key);
      if (batch && batch.api !== api) {
        send(key, batch);
        batch = undefined;
      }
      if (!batch) {
        const created: Batch = { target, retries, api, items: [] };
        created.timer = setTimeout(() => send(key, created), windowMs);
        open.set(key, created);
        batch = created;
      }
      const current = batch;
      const answer = new Promise<UploadCallsResponse>((resolve, reject) => {
        current.items.push({ record, resolve, reject });
      });
      if (current.items.length >= maxCalls) send(key, current);
      return answer;
    },
    async flush() {
      for (const [key, batch] of [...open]) send(key, batch);
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    stats: () => ({ ...counters }),
  };
}
