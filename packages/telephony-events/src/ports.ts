import { z } from 'zod';

/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}
/** The real wall clock (`Date.now()`); the default wherever a `clock` option is omitted. */
export const systemClock: Clock = { now: () => Date.now() };

/** A keyed async reader: a plain function or anything with `get(key)` (a `ConfigCache` fits). */
export type KeyedReader<V> =
  | ((key: string) => Promise<V | undefined>)
  | {
      /** The value stored under `key`, or `undefined` when there is none. */
      get(key: string): Promise<V | undefined>;
    };

export function readKey<V>(reader: KeyedReader<V>, key: string): Promise<V | undefined> {
  return typeof reader === 'function' ? reader(key) : reader.get(key);
}

/** Enablement matrix of one enterprise: `{retailcrm: true, amocrm: false, ...}`. */
export type EnablementMatrix = Record<string, boolean>;
/** Reads the enablement matrix (`ConfigCache<EnablementMatrix>` satisfies it). */
export type EnablementReader = KeyedReader<EnablementMatrix>;

/** `integrations_config.retailcrm` of one enterprise (seed field names; unknown fields tolerated). */
export const retailCrmEnterpriseConfigSchema = z.looseObject({
  /** The account's address, e.g. `https://shop.retailcrm.ru` (the RetailCRM client's base URL). */
  domain: z.string().min(1),
  /** The account's API key; masked in integration-log rows and logs. */
  api_key: z.string().min(1),
  /** `false` turns the whole integration off for this enterprise: no calls, no redirects (default true). */
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
/** A validated RetailCRM config of one enterprise, defaults applied (output of {@link retailCrmEnterpriseConfigSchema}). */
export type RetailCrmEnterpriseConfig = z.output<typeof retailCrmEnterpriseConfigSchema>;
/** Reads the RetailCRM config of an enterprise (`ConfigCache<RetailCrmEnterpriseConfig>` satisfies it). */
export type RetailCrmConfigReader = KeyedReader<RetailCrmEnterpriseConfig>;

// Shapes of the @callbridge/retailcrm-client contract, restated so this package does not depend on its progress.
// Optional members say `| undefined` so the client's types fit under `exactOptionalPropertyTypes` too.
/** Kind of a `telephony/call/event`: `in`/`out` open the call card, `hangup` closes it. */
export type CallEventType = 'in' | 'out' | 'hangup';
/** How a call ended, as `telephony/call/event` takes it with `type: 'hangup'` (`no answered` is RetailCRM's spelling). */
export type HangupStatus = 'answered' | 'busy' | 'cancel' | 'failed' | 'no answered';
/** The body of RetailCRM `POST /api/v5/telephony/call/event`: shows or closes a call card for the managers named. */
export interface CallEvent {
  /** The customer's number (E.164 when the PBX number could be normalised). */
  phone: string;
  /** Which card action: open for an incoming/outgoing call, or close it. */
  type: CallEventType;
  /** Extensions (RetailCRM `additionalCodes`) whose managers see the card. */
  codes?: string[] | undefined;
  /** RetailCRM user ids who see the card (this package sends them beside `codes`). */
  userIds?: number[] | undefined;
  /** RetailCRM site (store) code the call belongs to. */
  site?: string | undefined;
  /** How the call ended; only with `type: 'hangup'`. */
  hangupStatus?: HangupStatus | undefined;
  /** The company's number (trunk) the call went through. */
  externalPhone?: string | undefined;
  /** The PBX's id of the call (`UniqueId`), the same value as the upload's `externalId`. */
  callExternalId?: string | undefined;
  /** Web-analytics attributes RetailCRM stores with the call (not filled by this package). */
  webAnalyticsData?: Record<string, unknown> | undefined;
}
/** RetailCRM's answer to a call event. */
export interface CallEventResponse {
  /** Always `true`: an unsuccessful answer is thrown as an error by the client. */
  success: true;
  /** Sent `codes` RetailCRM knows no manager for. */
  notExistCodes?: string[] | undefined;
  /** Sent `userIds` RetailCRM knows no user for. */
  notExistUsers?: number[] | undefined;
}
/** Outcome of a call in RetailCRM's call history. */
export type CallResult = 'failed' | 'answered' | 'busy' | 'no answer' | 'not allowed' | 'unknown';
/** One call of RetailCRM `POST /api/v5/telephony/calls/upload` (the call history). */
export interface CallRecord {
  /** `Y-m-d H:i:s` */
  date: string;
  /** Direction, seen from the company: `in` the customer called, `out` a manager called. */
  type: 'in' | 'out';
  /** The customer's number (E.164 when it could be normalised). */
  phone: string;
  /** Extension of the manager who took or made the call. */
  code?: string | undefined;
  /** RetailCRM user id of that manager. */
  userId?: number | undefined;
  /** How the call ended. */
  result: CallResult;
  /** Talk time in whole seconds (answered calls). */
  duration?: number | undefined;
  /** Seconds the customer waited before the answer (or before giving up). */
  durationWaiting?: number | undefined;
  /** The PBX's call id (`UniqueId`); RetailCRM de-duplicates uploads by it (`duplicateCalls`). */
  externalId?: string | undefined;
  /** URL of the call recording RetailCRM plays and stores with the call. */
  recordUrl?: string | undefined;
  /** The company's number (trunk) the call went through. */
  externalPhone?: string | undefined;
  /** RetailCRM site (store) code the call belongs to. */
  site?: string | undefined;
}
/** RetailCRM's answer to a calls upload. */
export interface UploadCallsResponse {
  /** Always `true`: an unsuccessful answer is thrown as an error by the client. */
  success: true;
  /** How many of the sent calls RetailCRM stored. */
  processedCallsCount: number;
  /** `externalId`s RetailCRM already had; those calls were not stored again (nor their `recordUrl`). */
  duplicateCalls: string[];
}
/** RetailCRM's answer to `GET /api/v5/telephony/manager`: who is responsible for a customer's number. */
export interface ResponsibleManagerResponse {
  /** Always `true`: an unsuccessful answer is thrown as an error by the client. */
  success: true;
  /** The responsible manager; absent when the number has no customer or the customer no manager. */
  manager?:
    | {
        /** RetailCRM user id. */
        id: number;
        /** Given name, when RetailCRM sends it. */
        firstName?: string | undefined;
        /** Family name, when RetailCRM sends it. */
        lastName?: string | undefined;
        /** The manager's code; smart redirect dials it when it is an internal extension number. */
        code?: string | undefined;
      }
    | undefined;
  /** The customer found by the number (with `details`); passed through unread. */
  customer?: unknown;
  /** Links into the RetailCRM UI (with `details`); passed through unread. */
  links?: unknown;
}

/**
 * The slice of `RetailCrmClient['telephony']` this package calls. Deliveries pass the policy timeout's `signal`, so
 * a call that timed out for us is cancelled (with its own retries) instead of running on in the background.
 */
export interface RetailCrmTelephonyApi {
  /** Shows or closes a call card (`telephony/call/event`); `retry: false` asks the client not to retry itself. */
  callEvent(
    event: CallEvent,
    options?: { retry?: boolean | undefined; signal?: AbortSignal | undefined },
  ): Promise<CallEventResponse>;
  /** Adds calls to RetailCRM's call history (`telephony/calls/upload`, at most 50 per request). */
  uploadCalls(calls: CallRecord[], options?: { signal?: AbortSignal | undefined }): Promise<UploadCallsResponse>;
  /** Finds the manager responsible for a customer's number (`telephony/manager`). */
  responsibleManager(params: {
    phone: string;
    details?: boolean | undefined;
    ignoreStatus?: boolean | undefined;
  }): Promise<ResponsibleManagerResponse>;
}

/** A RetailCRM task (`/api/v5/tasks/create`), the subset a missed call fills. */
export type RetailCrmTaskInput = {
  /** The task's title shown in the manager's task list. */
  text: string;
  /** Longer free text under the title. */
  commentary?: string;
  /** `Y-m-d H:i`, when the task is due. */
  datetime?: string;
  /** RetailCRM user id of the manager who must do the task. */
  performerId: number;
  /** The number to call back. */
  phone?: string;
  /** The customer the task is about, when known. */
  customer?: {
    /** RetailCRM customer id. */
    id: number;
  };
};
/** The slice of `RetailCrmClient['tasks']` the missed-call task needs. */
export interface RetailCrmTasksApi {
  /** Creates a task (`tasks/create`); resolves with the new task's id. */
  create(
    task: RetailCrmTaskInput,
    options?: { site?: string; signal?: AbortSignal },
  ): Promise<{
    /** Always `true`: an unsuccessful answer is thrown as an error by the client. */
    success: true;
    /** RetailCRM id of the created task. */
    id: number;
  }>;
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

/** Outcome of one CRM operation in the integration log; see {@link IntegrationLogRecord.status}. */
export type IntegrationLogStatus = 'success' | 'error' | 'warning' | 'skipped';
/** What ties an integration-log row to a call. */
export interface CallTrace {
  /** The PBX's call id (`UniqueId`). */
  callUniqueId: string;
  /** Call direction, seen from the company. */
  direction?: 'in' | 'out';
  /** The customer's number (E.164). */
  phone?: string;
}

/** One row of `integration_logs`. */
export interface IntegrationLogRecord {
  /** The enterprise (tenant) the operation was made for. */
  enterpriseNumber: string;
  /** Which CRM integration, e.g. `retailcrm`. */
  integrationType: string;
  /** What caused the operation: the PBX event type (`dial`, `hangup`...) or e.g. `smart_redirect`. */
  eventType: string;
  /** Which CRM operation, e.g. `telephony.callEvent`. */
  operation: string;
  /** What was sent to the CRM (secrets masked), or a skip's reason and detail; JSON-serialisable. */
  requestData: unknown;
  /** What the CRM answered (secrets masked), or `null`; JSON-serialisable. */
  responseData: unknown;
  /**
   * `success`; `error`; `warning`: accepted by the CRM but something was lost (an upload answered `duplicateCalls`
   * whose recording RetailCRM did not take); `skipped`: no CRM call on purpose (a flag off, an internal call...).
   */
  status: IntegrationLogStatus;
  /** The call (`UniqueId`), its direction and the customer's number (E.164), when the row is about a call. */
  callUniqueId?: string;
  /** Call direction, seen from the company. */
  direction?: 'in' | 'out';
  /** The customer's number (E.164). */
  phone?: string;
  /** Why the operation failed (`error`) or what was lost (`warning`). */
  errorMessage?: string;
  /** How long the CRM operation took, in milliseconds. */
  durationMs: number;
  /** When the operation finished. */
  createdAt: Date;
}
/** Where integration-log rows go (the `integration_logs` table, or memory in tests). */
export interface IntegrationLogSink {
  /** Stores one row; a rejection is logged by the caller and never fails the delivery. */
  write(record: IntegrationLogRecord): void | Promise<void>;
}

/** Logger port (pino/console compatible). */
export interface Logger {
  /** Routine progress (pino `(obj, msg)` shape). */
  info(obj: object, msg?: string): void;
  /** Something went wrong but was handled (a retry, a skipped field). */
  warn(obj: object, msg?: string): void;
  /** A failure the operator should look at (a dead letter, a lost event). */
  error(obj: object, msg?: string): void;
}
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
