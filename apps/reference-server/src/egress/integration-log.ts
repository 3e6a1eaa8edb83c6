import { type IntegrationLogSink, redact } from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import { INTEGRATION } from '../retailcrm/service.js';
import type { IntegrationLogInput, IntegrationLogStatus, Storage } from '../storage/types.js';

/** One `integration_logs` row of a RetailCRM exchange (a CRM call, or a callback RetailCRM made to us). */
export interface IntegrationLogEntry {
  enterpriseNumber: string;
  /** Which CRM integration (default `retailcrm`); rows from telephony-events carry their sink's name (`job.crm`). */
  integrationType?: string;
  /** What happened, e.g. `dial`, `phone_call_upload`, `make_call`. */
  eventType: string;
  /** Which operation, e.g. `telephony.uploadCalls`, `ami.originate`, `phone.dial`. */
  operation: string;
  callUniqueId?: string | null;
  /** `in` / `out` and the customer's E.164 number, for rows about a call. */
  direction?: 'in' | 'out' | null;
  phone?: string | null;
  /** The request (masked here); stored as `request_data = {operation, data, attempt?}`. */
  data: unknown;
  /** 1-based attempt of a retried delivery. */
  attempt?: number;
  response?: unknown;
  /** `warning`: accepted but something was lost (a recording); `skipped`: no CRM call on purpose. */
  status: IntegrationLogStatus;
  errorMessage?: string;
  durationMs?: number;
  /** Values masked out of everything stored (API keys); secret-looking field names are masked anyway. */
  secrets?: readonly (string | undefined)[];
}

/** The one writer of RetailCRM integration logs: one `request_data` shape, secrets masked, never throws. */
export interface IntegrationLogWriter {
  write(entry: IntegrationLogEntry): Promise<void>;
  /** The same writer as telephony-events' `IntegrationLogSink` (pipeline and smart redirect). */
  readonly sink: IntegrationLogSink;
  /** Rows waiting to be written again after a failed write (storage down). */
  pending(): number;
  /** Stops retrying; tries the pending rows once more. */
  close(): Promise<void>;
}

export interface IntegrationLogRetryOptions {
  /** Rows kept for a retry while storage is down (default 10 000; beyond it the oldest are dropped and logged). */
  maxPending?: number;
  /** First retry delay, doubled up to `maxDelayMs` while writes keep failing (default 500 ms). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * The integration-log writer. A row whose write fails (storage down) is kept in a bounded in-memory buffer and
 * written again, in order, with backoff: a storage outage delays log rows instead of losing them.
 */
export function createIntegrationLogWriter(
  storage: Pick<Storage, 'insertIntegrationLog'>,
  logger: Pick<Logger, 'error'>,
  retry: IntegrationLogRetryOptions = {},
): IntegrationLogWriter {
  const maxPending = retry.maxPending ?? 10_000;
  const initialDelayMs = retry.initialDelayMs ?? 500;
  const maxDelayMs = retry.maxDelayMs ?? 30_000;
  const buffer: IntegrationLogInput[] = [];
  let delayMs = initialDelayMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dropped = 0;

  const flush = async (): Promise<void> => {
    timer = undefined;
    while (buffer.length > 0) {
      try {
        await storage.insertIntegrationLog(buffer[0] as IntegrationLogInput);
        buffer.shift();
      } catch {
        delayMs = Math.min(maxDelayMs, delayMs * 2);
        schedule();
        return;
      }
    }
    delayMs = initialDelayMs;
  };
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => void flush(), delayMs);
    timer.unref?.();
  };
  const keep = (row: IntegrationLogInput, err: unknown) => {
    if (buffer.length === 0) logger.error({ err }, 'integration log write failed; the row is kept and retried');
    buffer.push(row);
    if (buffer.length > maxPending) {
      buffer.shift();
      dropped++;
      if (dropped === 1 || dropped % 1000 === 0)
        logger.error({ dropped, maxPending }, 'integration log retry buffer full; oldest rows dropped');
    }
    schedule();
  };

  const write = async (entry: IntegrationLogEntry): Promise<void> => {
    const secrets = entry.secrets ?? [];
    const row: IntegrationLogInput = {
      enterpriseNumber: entry.enterpriseNumber,
      integrationType: entry.integrationType ?? INTEGRATION,
      eventType: entry.eventType,
      callUniqueId: entry.callUniqueId ?? null,
      direction: entry.direction ?? null,
      phone: entry.phone ?? null,
      requestData: redact(
        { operation: entry.operation, data: entry.data, ...(entry.attempt ? { attempt: entry.attempt } : {}) },
        secrets,
      ),
      responseData: entry.response === undefined ? null : redact(entry.response, secrets),
      status: entry.status,
      errorMessage: entry.errorMessage === undefined ? null : redact(entry.errorMessage, secrets),
      durationMs: entry.durationMs ?? null,
    };
    // Behind earlier failed rows: keep the order, join the queue.
    if (buffer.length > 0) {
      keep(row, undefined);
      return;
    }
    // A failed log write must not fail the delivery or the request it describes: it is retried later.
    await storage.insertIntegrationLog(row).catch((err) => keep(row, err));
  };
  return {
    write,
    pending: () => buffer.length,
    async close() {
      if (timer) clearTimeout(timer);
      await flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    sink: {
      // telephony-events has already masked the request and response with the account's key.
      write: (r) =>
        write({
          enterpriseNumber: r.enterpriseNumber,
          integrationType: r.integrationType,
          eventType: r.eventType,
          operation: r.operation,
          callUniqueId: r.callUniqueId ?? callIdOf(r.requestData),
          direction: r.direction ?? null,
          phone: r.phone ?? null,
          data: r.requestData,
          response: r.responseData,
          status: r.status,
          errorMessage: r.errorMessage,
          durationMs: r.durationMs,
        }),
    },
  };
}

/** The PBX call id inside a call event (`callExternalId`) or an upload (`[{externalId}]`). */
function callIdOf(request: unknown): string | null {
  const first = (Array.isArray(request) ? request[0] : request) as
    | { callExternalId?: unknown; externalId?: unknown }
    | undefined;
  const id = first?.callExternalId ?? first?.externalId;
  return typeof id === 'string' ? id : null;
}
