import {
  type BreakerState,
  type CallRecord,
  createUploadBatcher,
  type DeliveryPolicyOptions,
  describeError,
  type RetailCrmApiFactory,
  type RetailCrmEnterpriseConfig,
  type RetailCrmTasksApiFactory,
  type RetailCrmTelephonyApi,
  TelephonyEventsError,
  type UploadBatcher,
  type UploadCallsResponse,
} from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import { INTEGRATION } from '../retailcrm/service.js';
import type { Storage } from '../storage/types.js';
import type { EnterpriseRetailCrm } from './account-config.js';
import { type AccountTimeZonesOptions, createAccountTimeZones } from './account-time-zone.js';
import type { RetailCrmClientFactory } from './client-factory.js';
import { createIntegrationLogWriter, type IntegrationLogWriter } from './integration-log.js';
import { type AccountPolicies, createAccountPolicies } from './policies.js';

/** One CRM call's budget on the delivery path (environment: DELIVERY_TIMEOUT_MS, BREAKER_*). */
export interface EgressBudget {
  /** Hard timeout of one HTTP attempt, enforced by the policies and, as a backstop, by the client (2500 ms). */
  timeoutMs?: number;
  /** Quick in-call retries after the first attempt (2), with jittered backoff 200 ms .. 2 s. */
  retries?: number;
  breakerFailures?: number;
  breakerHalfOpenMs?: number;
  /** Per-account token bucket (10/s, RetailCRM's per-key limit), or false (tests). One token per HTTP request. */
  rateLimit?: DeliveryPolicyOptions['rateLimit'];
  /** How long a history upload waits for others of its enterprise to share one request (150 ms). */
  uploadWindowMs?: number;
  /**
   * Calls of one account that may wait for its turn (default 100). The server sets it above its delivery
   * concurrency: a claimed job is then never refused for queueing (a refusal costs it an attempt and a re-claim).
   */
  waitingPerAccount?: number;
}

export interface RetailCrmEgressOptions {
  /** The config cache of {@link EnterpriseRetailCrm} (anything with `get`). */
  config: { get(enterpriseNumber: string): Promise<EnterpriseRetailCrm | undefined> };
  clientFactory: RetailCrmClientFactory;
  storage: Pick<Storage, 'insertIntegrationLog'>;
  logger: Logger;
  budget?: EgressBudget;
  /** How the accounts' time zones are cached (1 h; the first read of an account holds a delivery at most 1 s). */
  accountTimeZones?: Pick<AccountTimeZonesOptions, 'ttlMs' | 'retryAfterMs' | 'firstReadWaitMs' | 'clock'>;
}

/** Context of an upload, for its integration_logs rows. */
export interface UploadContext {
  /** e.g. `phone_call_upload`. */
  eventType: string;
  callUniqueId?: string;
  /** The caller's durable attempt number (outbox), logged with each row. */
  attempt?: number;
  /**
   * In-call retries; 0 for a caller that retries durably itself (an outbox with its own backoff), so one outbox
   * attempt is one HTTP request (shared only with uploads that also have 0). Default: the budget's.
   */
  retries?: number;
}

/**
 * Everything that reaches RetailCRM from the delivery path goes through here: one client configuration (a single
 * attempt per call, see {@link RetailCrmClientFactory}), one set of policies per account (breaker, bulkhead, rate),
 * one integration-log writer. The telephony pipeline and smart redirect take {@link config}, {@link api},
 * {@link policies} and {@link log}'s sink; phone call results call {@link uploadCalls}.
 */
export interface RetailCrmEgress {
  /**
   * The account's config in telephony-events' shape; undefined while RetailCRM is not configured. For an enabled
   * account it carries `account_time_zone`, the zone RetailCRM reads dates in (`GET /api/v5/settings`, cached 1 h
   * and refreshed in the background), once known: the first read of an account may wait up to 1 s for it, a failed
   * read leaves it out (dates then use the configured zone).
   */
  config(enterpriseNumber: string): Promise<RetailCrmEnterpriseConfig | undefined>;
  /** The same config without waiting for a first time-zone read (smart redirect writes no dates). */
  lookupConfig(enterpriseNumber: string): Promise<RetailCrmEnterpriseConfig | undefined>;
  /** telephony-events' `RetailCrmApiFactory` over the delivery client, for calls made under {@link policies}. */
  readonly api: RetailCrmApiFactory;
  /**
   * The same client for the smart redirect's synchronous manager lookup, which runs under its own deadline rather
   * than the policies: one attempt, paced by the client at RetailCRM's per-key rate.
   */
  readonly lookupApi: RetailCrmApiFactory;
  /** The account's tasks API on the delivery path (missed-call tasks run under the same policies). */
  readonly tasksApi: RetailCrmTasksApiFactory;
  readonly policies: AccountPolicies;
  /**
   * History uploads of PBX events and phone results, coalesced per account into requests of up to 50 calls under
   * {@link policies} (one rate token per request).
   */
  readonly uploads: UploadBatcher;
  readonly log: IntegrationLogWriter;
  /**
   * Uploads finished calls of one enterprise through {@link uploads} (batched with the account's other uploads);
   * one integration_logs row per call and outcome (also for a call refused before reaching RetailCRM: not
   * configured, open breaker). Throws the first call's error when any failed.
   */
  uploadCalls(enterpriseNumber: string, records: CallRecord[], context: UploadContext): Promise<UploadCallsResponse>;
  /** `enterprise:crm` -> breaker state, for every account this process has called. */
  breakers(): Record<string, BreakerState>;
}

export function createRetailCrmEgress(options: RetailCrmEgressOptions): RetailCrmEgress {
  const budget = options.budget ?? {};
  const timeoutMs = budget.timeoutMs ?? 2500;
  const policies = createAccountPolicies({
    timeoutMs,
    retries: budget.retries,
    breaker: { consecutiveFailures: budget.breakerFailures, halfOpenAfterMs: budget.breakerHalfOpenMs },
    rateLimit: budget.rateLimit,
    ...(budget.waitingPerAccount ? { bulkhead: { queue: budget.waitingPerAccount } } : {}),
  });
  const log = createIntegrationLogWriter(options.storage, options.logger);
  const uploads = createUploadBatcher({ policies, windowMs: budget.uploadWindowMs });
  const zones = createAccountTimeZones({
    ...options.accountTimeZones,
    logger: options.logger,
    // One paced attempt per read: a failure is retried a minute later, never in a delivery's time.
    readSettings: (account) =>
      options
        .clientFactory({ url: account.domain, apiKey: account.api_key, delivery: { timeoutMs, paced: true } })
        .settings.get(),
  });
  const stored = async (n: string) => (await options.config.get(n))?.retailcrm;
  const withAccountZone = async (n: string, wait: boolean) => {
    const c = await stored(n);
    if (!c?.enabled) return c;
    const zone = await zones.get(n, c, { wait });
    return zone ? { ...c, account_time_zone: zone } : c;
  };
  const config = (n: string) => withAccountZone(n, true);
  const api: RetailCrmApiFactory = (c): RetailCrmTelephonyApi =>
    options.clientFactory({ url: c.domain, apiKey: c.api_key, delivery: { timeoutMs } }).telephony;
  const lookupApi: RetailCrmApiFactory = (c): RetailCrmTelephonyApi =>
    options.clientFactory({ url: c.domain, apiKey: c.api_key, delivery: { timeoutMs, paced: true } }).telephony;
  const tasksApi: RetailCrmTasksApiFactory = (c) =>
    options.clientFactory({ url: c.domain, apiKey: c.api_key, delivery: { timeoutMs } }).tasks;
  const apis = new Map<string, { domain: string; apiKey: string; api: RetailCrmTelephonyApi }>();
  const apiOf = (n: string, c: RetailCrmEnterpriseConfig) => {
    let entry = apis.get(n);
    if (entry?.domain !== c.domain || entry.apiKey !== c.api_key) {
      entry = { domain: c.domain, apiKey: c.api_key, api: api(c, n) };
      apis.set(n, entry);
    }
    return entry.api;
  };
  const errorText = (error: unknown) => {
    const info = describeError(error);
    return `${info.code ?? info.name}: ${info.message}`;
  };

  return {
    config,
    lookupConfig: (n) => withAccountZone(n, false),
    api,
    lookupApi,
    tasksApi,
    policies,
    uploads,
    log,
    breakers: () => policies.breakers(),
    async uploadCalls(enterpriseNumber, records, context) {
      // One row per call, like the rows of PBX events: its direction and number.
      const entry = (record: CallRecord | undefined, secrets: readonly string[]) => ({
        enterpriseNumber,
        eventType: context.eventType,
        operation: 'telephony.uploadCalls',
        callUniqueId: context.callUniqueId ?? record?.externalId ?? null,
        direction: record?.type ?? null,
        phone: record?.phone ?? null,
        data: record ? [record] : [],
        attempt: context.attempt,
        secrets,
      });
      const c = await stored(enterpriseNumber);
      if (!c?.enabled) {
        const error = new TelephonyEventsError('retailcrm_not_configured', 'RetailCRM is not configured', {
          isRetryable: true,
        });
        await log.write({ ...entry(records[0], []), status: 'error', errorMessage: errorText(error), durationMs: 0 });
        throw error;
      }
      const target = { enterpriseNumber, crm: INTEGRATION };
      const api = apiOf(enterpriseNumber, c);
      const outcomes = await Promise.all(
        records.map(async (record) => {
          const startedAt = Date.now();
          try {
            const response = await uploads.upload({ target, api, record, retries: context.retries });
            const durationMs = Date.now() - startedAt;
            await log.write({ ...entry(record, [c.api_key]), status: 'success', response, durationMs });
            return { response };
          } catch (error) {
            await log.write({
              ...entry(record, [c.api_key]),
              status: 'error',
              response: (error as { response?: unknown }).response,
              errorMessage: errorText(error),
              durationMs: Date.now() - startedAt,
            });
            return { error };
          }
        }),
      );
      const failed = outcomes.find((outcome) => 'error' in outcome);
      if (failed) throw failed.error;
      return {
        success: true,
        processedCallsCount: outcomes.reduce((sum, o) => sum + (o.response?.processedCallsCount ?? 0), 0),
        duplicateCalls: outcomes.flatMap((o) => o.response?.duplicateCalls ?? []),
      };
    },
  };
}
