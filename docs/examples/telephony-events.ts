// Examples from docs/guides/telephony-events.md. They are only typechecked (`pnpm typecheck`), never run.
// In your code import from '@callbridge/telephony-events' (and '/testing'), '@callbridge/config-cache' and
// '@callbridge/retailcrm-client'; the relative paths below point at the same files the packages'
// `@callbridge/source` export condition resolves to.
import { type ConfigCache, createConfigCache } from '../../packages/config-cache/src/index.js';
import { createRetailCrmClient } from '../../packages/retailcrm-client/src/index.js';
import {
  type AmiClient,
  createAmiChannelRedirector,
  createAmiClient,
  createDeliveryPolicies,
  createInMemoryDeadLetterStore,
  createInMemoryIntegrationLog,
  createInProcessQueue,
  createRetailCrmSink,
  createSmartRedirect,
  createTelephonyPipeline,
  type DeadLetterStore,
  type DeliveryQueue,
  type EnablementMatrix,
  type IntegrationLogRecord,
  type IntegrationLogSink,
  type RetailCrmApiFactory,
  type RetailCrmEnterpriseConfig,
  retailCrmEnterpriseConfigSchema,
  type SmartRedirect,
  type TelephonyPipeline,
} from '../../packages/telephony-events/src/index.js';
import { createRedisQueue } from '../../packages/telephony-events/src/redis.js';
import { createFakeTelephonyApi, startScriptedAmiPeer } from '../../packages/telephony-events/src/testing/index.js';

/** The part of a database handle used below (a node-postgres `Pool` or PGlite fits). */
export interface Db {
  query(text: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

// --- 1. Configuration: two caches fed by integrations_config ------------------------------------------------

export function createCaches(db: Db) {
  const enablement = createConfigCache<EnablementMatrix>({
    name: 'enablement',
    loader: {
      async load(enterprise) {
        const { rows } = await db.query('SELECT integrations_config AS c FROM enterprises WHERE number = $1', [
          enterprise,
        ]);
        const config = rows[0]?.c as Record<string, { enabled?: boolean }> | undefined;
        return config ? { retailcrm: config.retailcrm?.enabled === true } : undefined;
      },
      async loadAll() {
        const { rows } = await db.query('SELECT number, integrations_config AS c FROM enterprises');
        return rows.map((row) => {
          const config = (row.c ?? {}) as Record<string, { enabled?: boolean }>;
          return [String(row.number), { retailcrm: config.retailcrm?.enabled === true }] as const;
        });
      },
    },
  });
  const retailCrmConfigs = createConfigCache<RetailCrmEnterpriseConfig>({
    name: 'retailcrm-config',
    loader: {
      async load(enterprise) {
        const { rows } = await db.query(
          `SELECT integrations_config->'retailcrm' AS c FROM enterprises WHERE number = $1`,
          [enterprise],
        );
        const parsed = retailCrmEnterpriseConfigSchema.safeParse(rows[0]?.c);
        return parsed.success ? parsed.data : undefined; // missing or invalid config = not configured
      },
      async loadAll() {
        const { rows } = await db.query(
          `SELECT number, integrations_config->'retailcrm' AS c FROM enterprises WHERE integrations_config ? 'retailcrm'`,
        );
        return rows.flatMap((row) => {
          const parsed = retailCrmEnterpriseConfigSchema.safeParse(row.c);
          return parsed.success ? [[String(row.number), parsed.data] as const] : [];
        });
      },
    },
  });
  return { enablement, retailCrmConfigs };
}

// --- 2. The RetailCRM API per enterprise ---------------------------------------------------------------------

/**
 * The pipeline already applies timeout, retries and the breaker around every CRM call, so the client's own
 * retries are switched off and its per-attempt timeout is kept below the pipeline's 2.5 s.
 */
export const createApi: RetailCrmApiFactory = (config) =>
  createRetailCrmClient({ url: config.domain, apiKey: config.api_key, retry: false, timeoutMs: 2_000 }).telephony;

// --- 3. Durable stores: integration_logs and dead letters -------------------------------------------------------

export function integrationLogTable(db: Db): IntegrationLogSink {
  return {
    // Records arrive with API keys already masked.
    async write(record: IntegrationLogRecord) {
      await db.query(
        `INSERT INTO integration_logs (enterprise_number, integration_type, event_type, request_data, response_data,
           status, error_message, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          record.enterpriseNumber,
          record.integrationType,
          `${record.eventType}:${record.operation}`,
          JSON.stringify(record.requestData),
          JSON.stringify(record.responseData),
          record.status,
          record.errorMessage ?? null,
          record.createdAt,
        ],
      );
    },
  };
}

export function deadLetterTable(db: Db): DeadLetterStore {
  return {
    async add(entry) {
      await db.query(
        'INSERT INTO delivery_dead_letters (job_id, job, error, attempts, failed_at) VALUES ($1, $2, $3, $4, $5)',
        [entry.job.id, JSON.stringify(entry.job), JSON.stringify(entry.error), entry.attempts, entry.failedAt],
      );
    },
  };
}

// --- 4. The pipeline ----------------------------------------------------------------------------------------------

export async function startPipeline(db: Db, redisUrl: string | undefined) {
  const { enablement, retailCrmConfigs } = createCaches(db);
  await Promise.all([enablement.start(), retailCrmConfigs.start()]);

  // One instance: in-process. Several instances (or no job may be lost on a crash): Redis (BullMQ).
  const queue: DeliveryQueue = redisUrl
    ? createRedisQueue({ connection: redisUrl, prefix: 'callbridge', attempts: 5 })
    : createInProcessQueue({ attempts: 5, concurrency: 16 });

  const policies = createDeliveryPolicies({
    timeoutMs: 2_500,
    retries: 2,
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
    bulkhead: { perEnterprise: 4, queue: 100 },
    rateLimit: { perSecond: 10 }, // RetailCRM allows 10 rps per key (40 for /telephony/*)
  });

  const pipeline = createTelephonyPipeline({
    enablement, // anything with get(enterprise), e.g. ConfigCache<EnablementMatrix>
    sinks: [createRetailCrmSink({ config: retailCrmConfigs, createApi })],
    queue,
    policies,
    integrationLog: integrationLogTable(db),
    deadLetters: deadLetterTable(db),
    logger: console,
  });
  await pipeline.start();
  return { pipeline, policies, queue, caches: [enablement, retailCrmConfigs] as ConfigCache<unknown>[] };
}

/** The body of `POST /api/events`, framework-free: answer the PBX at once, deliver in the background. */
export async function handlePbxEvent(pipeline: TelephonyPipeline, body: unknown) {
  const result = await pipeline.handle(body); // never throws, never waits for a CRM
  if (result.ok) return { status: 200, body: result }; // {ok:true, enqueued:['retailcrm'], duplicates:[], ignored:[]}
  if (result.error === 'invalid_event') return { status: 400, body: result }; // zod issues: fix the dialplan
  return { status: 503, body: result }; // enablement_unavailable / queue_unavailable: the PBX side should retry
}

// --- 5. Smart redirect over AMI -----------------------------------------------------------------------------------

export async function startSmartRedirect(
  retailCrmConfigs: ConfigCache<RetailCrmEnterpriseConfig>,
  integrationLog: IntegrationLogSink,
  amiSecret: string,
): Promise<{ ami: AmiClient; smart: SmartRedirect }> {
  const ami = createAmiClient({
    host: '10.0.0.5',
    port: 5038,
    username: 'callbridge',
    secret: amiSecret, // never appears in a message or log line
    actionTimeoutMs: 1_000, // the caller is ringing: do not wait 5 s for a Redirect answer
    reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
  });
  ami.onStatus((status) => {
    if (status.state === 'auth_failed') console.error('AMI login refused; the client stopped', status.message);
  });
  await ami.connect();

  const smart = createSmartRedirect({
    config: retailCrmConfigs,
    createApi,
    budgetMs: 1_500, // config read + /telephony/manager; on expiry the call takes its default route
    cacheTtlMs: 60_000,
    negativeCacheTtlMs: 15_000,
    redirector: createAmiChannelRedirector(ami),
    context: 'from-internal',
    integrationLog,
  });
  return { ami, smart };
}

/** The body of `POST /api/smart-redirect`: the dialplan asks where to send an incoming call. */
export async function onIncomingCall(smart: SmartRedirect, enterprise: string, phone: string, channel: string) {
  const outcome = await smart.redirectCall({ enterprise, phone, channel }); // never throws
  // { redirected: true, extension: '151' } or { redirected: false, reason } -> the default route
  return outcome;
}

/** Variant where the dialplan does the redirect itself: only ask for the extension. */
export async function lookupOnly(smart: SmartRedirect, enterprise: string, phone: string) {
  const result = await smart.resolveResponsibleExtension({ enterprise, phone });
  return result.extension ?? null; // reason: no_manager | no_extension | timeout | error | not_configured | disabled
}

// --- 6. Operations -----------------------------------------------------------------------------------------------

export function telephonyStats(
  pipeline: TelephonyPipeline,
  queue: DeliveryQueue,
  policies: ReturnType<typeof createDeliveryPolicies>,
  enterprises: string[],
) {
  return {
    pipeline: pipeline.stats(), // received, invalid, enqueued, duplicates, ignored, staleDials, delivered, ...
    queue: queue.stats(), // enqueued, duplicates, completed, failedAttempts, deadLettered
    breakers: Object.fromEntries(
      enterprises.map((enterpriseNumber) => [
        enterpriseNumber,
        policies.breakerState({ enterpriseNumber, crm: 'retailcrm' }),
      ]),
    ),
  };
}

export async function shutdown(pipeline: TelephonyPipeline, ami: AmiClient, caches: ConfigCache<unknown>[]) {
  await pipeline.onIdle(); // optional: let queued deliveries finish (in-process queue: they are lost otherwise)
  await pipeline.close();
  await ami.close(); // Logoff, no reconnect
  await Promise.all(caches.map((cache) => cache.close()));
}

// --- 7. Tests: fake CRM, in-memory stores, scripted AMI peer ---------------------------------------------------------

export async function pipelineWithFakeCrm() {
  const api = createFakeTelephonyApi();
  const integrationLog = createInMemoryIntegrationLog();
  const deadLetters = createInMemoryDeadLetterStore();
  const config: RetailCrmEnterpriseConfig = retailCrmEnterpriseConfigSchema.parse({
    domain: 'https://demo.retailcrm.ru',
    api_key: 'test-key-0123456789',
    user_extensions: { '18': '151' },
  });
  const pipeline = createTelephonyPipeline({
    enablement: async () => ({ retailcrm: true }), // a plain function works too
    sinks: [createRetailCrmSink({ config: async () => config, createApi: () => api })],
    policies: { backoff: { initialMs: 1, maxMs: 5 }, rateLimit: false },
    queue: createInProcessQueue({ retryDelayMs: () => 10 }),
    integrationLog,
    deadLetters,
  });
  await pipeline.start();

  api.failNext({ status: 503 }); // the first CRM call fails once, then succeeds on retry
  await pipeline.handle({
    enterprise_number: '0367',
    event_type: 'hangup',
    payload: {
      UniqueId: '1736416800.1234',
      CallType: 0,
      Phone: '79001234567',
      Extensions: ['151'],
      CallStatus: '2',
      StartTime: '2025-01-09 10:00:00',
      EndTime: '2025-01-09 10:02:30',
    },
  });
  await pipeline.onIdle();
  await pipeline.close();
  // api.callEvents: one 'hangup' event (answered); api.uploadedCalls: one record, duration 150, userId 18
  return { events: api.callEvents, uploads: api.uploadedCalls, log: integrationLog.list(), dead: deadLetters.list() };
}

export async function redirectAgainstScriptedPeer() {
  const peer = await startScriptedAmiPeer({ username: 'callbridge', secret: 'test-secret' });
  const ami = createAmiClient({ host: '127.0.0.1', port: peer.port, username: 'callbridge', secret: 'test-secret' });
  await ami.connect();
  await ami.redirect({ channel: 'SIP/trunk-0000002a', exten: '151', context: 'from-internal', priority: 1 });
  const redirects = peer.actions.filter(({ action }) => action.Action === 'Redirect');
  await ami.close();
  await peer.close();
  return redirects;
}
