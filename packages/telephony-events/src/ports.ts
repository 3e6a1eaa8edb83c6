import { z } from 'zod';

/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** A keyed async reader: a plain function or anything with `get(key)` (a `ConfigCache` fits). */
export type KeyedReader<V> = ((key: string) => Promise<V | undefined>) | { get(key: string): Promise<V | undefined> };

export function readKey<V>(reader: KeyedReader<V>, key: string): Promise<V | undefined> {
  return typeof reader === 'function' ? reader(key) : reader.get(key);
}

/** Enablement matrix of one enterprise: `{retailcrm: true, amocrm: false, ...}`. */
export type EnablementMatrix = Record<string, boolean>;
/** Reads the enablement matrix (`ConfigCache<EnablementMatrix>` satisfies it). */
export type EnablementReader = KeyedReader<EnablementMatrix>;

/** `integrations_config.retailcrm` of one enterprise (seed field names; unknown fields tolerated). */
export const retailCrmEnterpriseConfigSchema = z.looseObject({
  domain: z.string().min(1),
  api_key: z.string().min(1),
  enabled: z.boolean().default(true),
  /** `{retailcrm_user_id: extension | null}`; null = unassigned. */
  user_extensions: z.record(z.string(), z.string().nullable()).default({}),
  /** Per-event switches, each gating exactly what it names; a missing flag means "on". */
  events: z
    .looseObject({
      /** Call event `in` (the incoming card). */
      incoming: z.boolean().optional(),
      /** Call event `out` (the outgoing card). */
      outgoing: z.boolean().optional(),
      /** Call event `hangup` (closes the card). */
      hangup: z.boolean().optional(),
      /** Call-history uploads (`telephony/calls/upload`) of hangups and downloads. */
      history: z.boolean().optional(),
      /** `/smart-redirect` asks RetailCRM for the responsible manager; off: the PBX keeps its default route. */
      smart_redirect: z.boolean().optional(),
      /** Legacy: `false` silences both `in` and `out` call events. */
      dial: z.boolean().optional(),
      /** Legacy: `false` silences the uploads of `download` events. */
      download: z.boolean().optional(),
    })
    .optional(),
  /** RetailCRM `site` code to attach to call events and uploads. */
  site: z.string().optional(),
  /** ISO 3166 alpha-2 country (e.g. `BY`) for numbers the PBX sends without `+`; they are sent as E.164. */
  default_country: z.string().length(2).optional(),
  /**
   * Seconds (0-120) a finished call's history upload waits for its recording (a later `download` with
   * `record_url`): RetailCRM cannot attach a recording to a call already uploaded. 0 = upload at once.
   */
  recording_wait_seconds: z.number().int().min(0).max(120).optional(),
  /** Send calls between two internal extensions (default false: they are not customer calls). */
  send_internal_calls: z.boolean().optional(),
  /** A missed incoming call creates a RetailCRM task for the responsible manager (default false). */
  missed_call_task: z.boolean().optional(),
  /** IANA zone of the PBX clock for this enterprise; overrides the sink's `timeZone`. */
  time_zone: z.string().optional(),
  /**
   * IANA zone of the RetailCRM account (its `GET /api/v5/settings` `timezone`): RetailCRM reads every date it is
   * sent on this clock. Set by the application that reads the account's settings; when set, PBX stamps (read in
   * `time_zone`) are converted to it and instants are written in it. Absent: dates are written on the PBX clock.
   */
  account_time_zone: z.string().optional(),
});
export type RetailCrmEnterpriseConfig = z.output<typeof retailCrmEnterpriseConfigSchema>;
/** Reads the RetailCRM config of an enterprise (`ConfigCache<RetailCrmEnterpriseConfig>` satisfies it). */
export type RetailCrmConfigReader = KeyedReader<RetailCrmEnterpriseConfig>;

// Shapes of the @callbridge/retailcrm-client contract, restated so this package does not depend on its progress.
// Optional members say `| undefined` so the client's types fit under `exactOptionalPropertyTypes` too.
export type CallEventType = 'in' | 'out' | 'hangup';
export type HangupStatus = 'answered' | 'busy' | 'cancel' | 'failed' | 'no answered';
export interface CallEvent {
  phone: string;
  type: CallEventType;
  codes?: string[] | undefined;
  userIds?: number[] | undefined;
  site?: string | undefined;
  hangupStatus?: HangupStatus | undefined;
  externalPhone?: string | undefined;
  callExternalId?: string | undefined;
  webAnalyticsData?: Record<string, unknown> | undefined;
}
export interface CallEventResponse {
  success: true;
  notExistCodes?: string[] | undefined;
  notExistUsers?: number[] | undefined;
}
export type CallResult = 'failed' | 'answered' | 'busy' | 'no answer' | 'not allowed' | 'unknown';
export interface CallRecord {
  /** `Y-m-d H:i:s` */
  date: string;
  type: 'in' | 'out';
  phone: string;
  code?: string | undefined;
  userId?: number | undefined;
  result: CallResult;
  duration?: number | undefined;
  durationWaiting?: number | undefined;
  externalId?: string | undefined;
  recordUrl?: string | undefined;
  externalPhone?: string | undefined;
  site?: string | undefined;
}
export interface UploadCallsResponse {
  success: true;
  processedCallsCount: number;
  duplicateCalls: string[];
}
export interface ResponsibleManagerResponse {
  success: true;
  manager?:
    | { id: number; firstName?: string | undefined; lastName?: string | undefined; code?: string | undefined }
    | undefined;
  customer?: unknown;
  links?: unknown;
}

/**
 * The slice of `RetailCrmClient['telephony']` this package calls. Deliveries pass the policy timeout's `signal`, so
 * a call that timed out for us is cancelled (with its own retries) instead of running on in the background.
 */
export interface RetailCrmTelephonyApi {
  callEvent(
    event: CallEvent,
    options?: { retry?: boolean | undefined; signal?: AbortSignal | undefined },
  ): Promise<CallEventResponse>;
  uploadCalls(calls: CallRecord[], options?: { signal?: AbortSignal | undefined }): Promise<UploadCallsResponse>;
  responsibleManager(params: {
    phone: string;
    details?: boolean | undefined;
    ignoreStatus?: boolean | undefined;
  }): Promise<ResponsibleManagerResponse>;
}

/** A RetailCRM task (`/api/v5/tasks/create`), the subset a missed call fills. */
export type RetailCrmTaskInput = {
  text: string;
  commentary?: string;
  /** `Y-m-d H:i`, when the task is due. */
  datetime?: string;
  performerId: number;
  phone?: string;
  customer?: { id: number };
};
/** The slice of `RetailCrmClient['tasks']` the missed-call task needs. */
export interface RetailCrmTasksApi {
  create(
    task: RetailCrmTaskInput,
    options?: { site?: string; signal?: AbortSignal },
  ): Promise<{ success: true; id: number }>;
}
/** Builds the tasks API of one enterprise; `undefined` when the client has none (tasks are then skipped). */
export type RetailCrmTasksApiFactory = (
  config: RetailCrmEnterpriseConfig,
  enterpriseNumber: string,
) => RetailCrmTasksApi | undefined;

/** Builds an API for one enterprise, e.g. `(c) => createRetailCrmClient({url: c.domain, apiKey: c.api_key}).telephony`. */
export type RetailCrmApiFactory = (
  config: RetailCrmEnterpriseConfig,
  enterpriseNumber: string,
) => RetailCrmTelephonyApi;

export type IntegrationLogStatus = 'success' | 'error' | 'warning' | 'skipped';
/** What ties an integration-log row to a call. */
export interface CallTrace {
  callUniqueId: string;
  direction?: 'in' | 'out';
  phone?: string;
}

/** One row of `integration_logs`. */
export interface IntegrationLogRecord {
  enterpriseNumber: string;
  integrationType: string;
  eventType: string;
  /** Which CRM operation, e.g. `telephony.callEvent`. */
  operation: string;
  requestData: unknown;
  responseData: unknown;
  /**
   * `success`; `error`; `warning`: accepted by the CRM but something was lost (an upload answered `duplicateCalls`
   * whose recording RetailCRM did not take); `skipped`: no CRM call on purpose (a flag off, an internal call...).
   */
  status: IntegrationLogStatus;
  /** The call (`UniqueId`), its direction and the customer's number (E.164), when the row is about a call. */
  callUniqueId?: string;
  direction?: 'in' | 'out';
  phone?: string;
  errorMessage?: string;
  durationMs: number;
  createdAt: Date;
}
export interface IntegrationLogSink {
  write(record: IntegrationLogRecord): void | Promise<void>;
}

/** Logger port (pino/console compatible). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
