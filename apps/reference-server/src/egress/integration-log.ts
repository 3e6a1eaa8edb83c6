import { type IntegrationLogSink, redact } from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import { INTEGRATION } from '../retailcrm/service.js';
import type { IntegrationLogStatus, Storage } from '../storage/types.js';

/** One `integration_logs` row of a RetailCRM exchange (a CRM call, or a callback RetailCRM made to us). */
export interface IntegrationLogEntry {
  enterpriseNumber: string;
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
}

export function createIntegrationLogWriter(
  storage: Pick<Storage, 'insertIntegrationLog'>,
  logger: Pick<Logger, 'error'>,
): IntegrationLogWriter {
  const write = async (entry: IntegrationLogEntry): Promise<void> => {
    const secrets = entry.secrets ?? [];
    await storage
      .insertIntegrationLog({
        enterpriseNumber: entry.enterpriseNumber,
        integrationType: INTEGRATION,
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
      })
      // A lost log row must not fail the delivery or the request it describes.
      .catch((err) => logger.error({ err }, 'integration log write failed'));
  };
  return {
    write,
    sink: {
      // telephony-events has already masked the request and response with the account's key.
      write: (r) =>
        write({
          enterpriseNumber: r.enterpriseNumber,
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
