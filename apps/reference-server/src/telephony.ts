import type { ConfigCache } from '@callbridge/config-cache';
import {
  type BreakerState,
  backoffDelay,
  type ChannelRedirector,
  createRecordingHold,
  createRetailCrmSink,
  createSmartRedirect,
  createTelephonyPipeline,
  type DeliveryJob,
  type DeliveryQueue,
  type EnqueueResult,
  type QueueStats,
  type SmartRedirect,
  type TelephonyPipeline,
} from '@callbridge/telephony-events';
import { createRedisQueue } from '@callbridge/telephony-events/redis';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import { createSqlDeadLetterStore } from './delivery/dead-letters.js';
import { createSqlQueue } from './delivery/sql-queue.js';
import type { RetailCrmEgress } from './egress/retailcrm-egress.js';
import type { Storage } from './storage/types.js';

export const DELIVERY_QUEUE = 'telephony-deliveries';

export interface TelephonyDeps {
  /** Dead letters of the delivery queue; `sql` holds the outbox when Redis is not configured. */
  storage: Pick<Storage, 'insertDeadLetter' | 'sql'>;
  /** The server's one way to RetailCRM: config, delivery client, shared policies, integration log. */
  egress: RetailCrmEgress;
  enablementCache: ConfigCache<Record<string, boolean>>;
  logger: Logger;
  redisUrl?: string;
  redisPrefix?: string;
  redirector?: ChannelRedirector;
  /**
   * IANA zone of the PBX clock (RETAILCRM_TIME_ZONE); an enterprise's `time_zone` setting overrides it. Dates are
   * converted to the RetailCRM account's own zone when the egress knows it.
   */
  timeZone?: string;
  /** Queue tuning from the environment (the per-call budget is the egress's); telephony-events' defaults when absent. */
  delivery?: Partial<AppConfig['delivery']>;
}

/** Per-process delivery state for `/stats`: breakers are per instance, queue counters too. */
export interface DeliveryState {
  /** `sql`: the outbox in the server's database (PGlite or PostgreSQL); `redis`: BullMQ. */
  queue: 'redis' | 'sql';
  queue_stats: QueueStats;
  /** `enterprise:crm` -> breaker state, for every target this process has called. */
  breakers: Record<string, BreakerState>;
  /** Hangup uploads of this process holding for their recording (`recording_wait_seconds`) right now. */
  recordings_waiting: number;
}

export interface Telephony {
  pipeline: TelephonyPipeline;
  smartRedirect: SmartRedirect;
  /** Puts a stored delivery job back on the queue (dead-letter re-send); new events go through `pipeline`. */
  enqueue(job: DeliveryJob): Promise<EnqueueResult>;
  state(): DeliveryState;
  close(): Promise<void>;
}

/**
 * Event delivery (telephony-events pipeline + RetailCRM sink) and smart redirect over the server's RetailCRM
 * egress, with dead_letters for jobs that never deliver. Every accepted event is stored before the answer: in the
 * SQL outbox of the server's database by default, in BullMQ when REDIS_URL is set.
 */
export function createTelephony(deps: TelephonyDeps): Telephony {
  const { egress } = deps;
  const d = deps.delivery ?? {};
  const retry = {
    ...(d.attempts ? { attempts: d.attempts } : {}),
    ...(d.retryBaseMs !== undefined
      ? {
          retryDelayMs: (n: number) =>
            backoffDelay(n, {
              initialMs: d.retryBaseMs as number,
              maxMs: d.retryMaxMs ?? 60_000,
              factor: 4,
              jitter: false,
            }),
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
    : createSqlQueue({
        sql: deps.storage.sql,
        queue: DELIVERY_QUEUE,
        leaseMs: d.lockDurationMs,
        concurrency: d.concurrency,
        ...retry,
      });
  const recordings = createRecordingHold();
  const pipeline = createTelephonyPipeline({
    enablement: deps.enablementCache,
    sinks: [
      createRetailCrmSink({
        config: egress.config,
        createApi: egress.api,
        createTasksApi: egress.tasksApi,
        uploads: egress.uploads,
        recordings,
        ...(deps.timeZone ? { timeZone: deps.timeZone } : {}),
        logger: deps.logger,
      }),
    ],
    queue,
    policies: egress.policies,
    integrationLog: egress.log.sink,
    deadLetters: createSqlDeadLetterStore(deps.storage, DELIVERY_QUEUE),
    // telephony-events' Logger port is pino's shape: the logger goes in as is.
    logger: deps.logger,
  });
  const smartRedirect = createSmartRedirect({
    config: egress.lookupConfig,
    createApi: egress.lookupApi,
    redirector: deps.redirector,
    integrationLog: egress.log.sink,
    logger: deps.logger,
  });
  return {
    pipeline,
    smartRedirect,
    enqueue: (job) => queue.enqueue(job),
    state: () => ({
      queue: deps.redisUrl ? 'redis' : 'sql',
      queue_stats: queue.stats(),
      breakers: egress.breakers(),
      recordings_waiting: recordings.waiting(),
    }),
    close: () => pipeline.close(),
  };
}
