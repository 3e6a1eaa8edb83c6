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
  /** Per-event switches; a missing flag means "send". */
  events: z
    .looseObject({
      dial: z.boolean().optional(),
      hangup: z.boolean().optional(),
      download: z.boolean().optional(),
    })
    .optional(),
  /** RetailCRM `site` code to attach to call events and uploads. */
  site: z.string().optional(),
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

/** Builds an API for one enterprise, e.g. `(c) => createRetailCrmClient({url: c.domain, apiKey: c.api_key}).telephony`. */
export type RetailCrmApiFactory = (
  config: RetailCrmEnterpriseConfig,
  enterpriseNumber: string,
) => RetailCrmTelephonyApi;

/** One row of `integration_logs`. */
export interface IntegrationLogRecord {
  enterpriseNumber: string;
  integrationType: string;
  eventType: string;
  /** Which CRM operation, e.g. `telephony.callEvent`. */
  operation: string;
  requestData: unknown;
  responseData: unknown;
  status: 'success' | 'error';
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
