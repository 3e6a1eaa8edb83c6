import type { ConfigCache } from '@callbridge/config-cache';
import {
  type BreakerState,
  type ChannelRedirector,
  createDeliveryPolicies,
  createInProcessQueue,
  createRedisQueue,
  createRetailCrmSink,
  createSmartRedirect,
  createTelephonyPipeline,
  type DeliveryPolicies,
  type DeliveryQueue,
  type IntegrationLogSink,
  type QueueStats,
  type RetailCrmEnterpriseConfig,
  type SmartRedirect,
  type TelephonyPipeline,
} from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import type { RetailCrmRuntimeConfig } from './retailcrm/runtime-config.js';
import type { RetailCrmClientFactory } from './retailcrm/service.js';
import type { Storage } from './storage/types.js';

export const DELIVERY_QUEUE = 'telephony-deliveries';

/** Maps our cached runtime config to the `integrations_config.retailcrm` shape telephony-events reads. */
export function toTelephonyConfig(v: RetailCrmRuntimeConfig | undefined): RetailCrmEnterpriseConfig | undefined {
  if (!v?.domain || !v.apiKey) return undefined;
  return {
    domain: v.domain,
    api_key: v.apiKey,
    enabled: v.enabled,
    user_extensions: v.userExtensions,
    events: {
      dial: v.events.incoming || v.events.outgoing,
      hangup: v.events.hangup || v.events.history,
      download: v.events.history,
    },
  };
}

export interface TelephonyDeps {
  storage: Storage;
  configCache: ConfigCache<RetailCrmRuntimeConfig>;
  enablementCache: ConfigCache<Record<string, boolean>>;
  clientFactory: RetailCrmClientFactory;
  logger: Logger;
  redisUrl?: string;
  redisPrefix?: string;
  redirector?: ChannelRedirector;
  /** Queue and CRM call tuning from the environment; defaults of telephony-events when absent. */
  delivery?: Partial<AppConfig['delivery']>;
}

/** Per-process delivery state for `/stats`: breakers are per instance, queue counters too. */
export interface DeliveryState {
  queue: 'redis' | 'in-process';
  queue_stats: QueueStats;
  /** `enterprise:crm` -> breaker state, for every target this process has called. */
  breakers: Record<string, BreakerState>;
}

export interface Telephony {
  pipeline: TelephonyPipeline;
  smartRedirect: SmartRedirect;
  state(): DeliveryState;
  close(): Promise<void>;
}

/**
 * Event delivery (telephony-events pipeline + RetailCRM sink) and smart redirect, wired to our
 * config cache, integration_logs and dead_letters. Redis-backed queue when REDIS_URL is set.
 */
export function createTelephony(deps: TelephonyDeps): Telephony {
  const config = async (n: string) => toTelephonyConfig(await deps.configCache.get(n));
  const createApi = (c: RetailCrmEnterpriseConfig) =>
    deps.clientFactory({ url: c.domain, apiKey: c.api_key }).telephony;
  const integrationLog: IntegrationLogSink = {
    async write(r) {
      const req = r.requestData as { callExternalId?: string; externalId?: string } | undefined;
      await deps.storage
        .insertIntegrationLog({
          enterpriseNumber: r.enterpriseNumber,
          integrationType: r.integrationType,
          eventType: r.eventType,
          callUniqueId: req?.callExternalId ?? req?.externalId ?? null,
          requestData: { operation: r.operation, data: r.requestData },
          responseData: r.responseData ?? null,
          status: r.status,
          errorMessage: r.errorMessage ?? null,
          durationMs: r.durationMs,
        })
        .catch((err) => deps.logger.error({ err }, 'integration log write failed'));
    },
  };
  const d = deps.delivery ?? {};
  const retry = {
    ...(d.attempts ? { attempts: d.attempts } : {}),
    ...(d.retryBaseMs !== undefined
      ? {
          retryDelayMs: (n: number) =>
            Math.min(d.retryMaxMs ?? 60_000, (d.retryBaseMs as number) * 4 ** Math.max(0, n - 1)),
        }
      : {}),
  };
  const queue: DeliveryQueue = deps.redisUrl
    ? createRedisQueue({
        connection: deps.redisUrl,
        prefix: deps.redisPrefix ?? d.redisPrefix ?? 'callbridge',
        queueName: DELIVERY_QUEUE,
        lockDurationMs: d.lockDurationMs,
        stalledIntervalMs: d.stalledIntervalMs,
        ...retry,
      })
    : createInProcessQueue(retry);
  const basePolicies = createDeliveryPolicies({
    timeoutMs: d.timeoutMs,
    breaker: { consecutiveFailures: d.breakerFailures, halfOpenAfterMs: d.breakerHalfOpenMs },
  });
  // Remember every target so /stats can list its breaker.
  const targets = new Map<string, { enterpriseNumber: string; crm: string }>();
  const policies: DeliveryPolicies = {
    execute(target, fn, observe) {
      targets.set(`${target.enterpriseNumber}:${target.crm}`, target);
      return basePolicies.execute(target, fn, observe);
    },
    breakerState: (target) => basePolicies.breakerState(target),
  };
  const pipelineLogger = {
    info: (o: object, m?: string) => deps.logger.info(o, m),
    warn: (o: object, m?: string) => deps.logger.warn(o, m),
    error: (o: object, m?: string) => deps.logger.error(o, m),
  };
  const pipeline = createTelephonyPipeline({
    enablement: deps.enablementCache,
    sinks: [createRetailCrmSink({ config, createApi })],
    queue,
    policies,
    integrationLog,
    deadLetters: {
      async add(entry) {
        await deps.storage.insertDeadLetter({
          queue: DELIVERY_QUEUE,
          enterpriseNumber: entry.job.enterpriseNumber,
          jobId: entry.job.id,
          payload: entry.job.event,
          errorMessage: entry.error.message,
          attempts: entry.attempts,
        });
      },
    },
    logger: pipelineLogger,
  });
  const smartRedirect = createSmartRedirect({
    config,
    createApi,
    redirector: deps.redirector,
    integrationLog,
    logger: pipelineLogger,
  });
  return {
    pipeline,
    smartRedirect,
    state: () => ({
      queue: deps.redisUrl ? 'redis' : 'in-process',
      queue_stats: queue.stats(),
      breakers: Object.fromEntries([...targets].map(([k, t]) => [k, basePolicies.breakerState(t)])),
    }),
    close: () => pipeline.close(),
  };
}
