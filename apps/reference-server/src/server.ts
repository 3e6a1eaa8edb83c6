import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ConfigCache,
  createConfigCache,
  createPgListenInvalidationSource,
  createPgliteInvalidationSource,
  type InvalidationSource,
} from '@callbridge/config-cache';
import {
  type AmiClient,
  type ChannelRedirector,
  createAmiChannelRedirector,
  createAmiClient,
} from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import { type AppContext, createApp } from './app.js';
import type { AppConfig } from './config.js';
import { createRetailCrmConfigLoader, type EnterpriseRetailCrm, isDeliveryEnabled } from './egress/account-config.js';
import { defaultClientFactory, type RetailCrmClientFactory } from './egress/client-factory.js';
import { createRetailCrmEgress } from './egress/retailcrm-egress.js';
import { answerMalformedRequests } from './input-guard.js';
import { createLogger } from './logger.js';
import { createMessenger, type Messenger } from './messenger/index.js';
import { createPhoneModule, type PhoneModule, type PhoneModuleOptions } from './phone/module.js';
import { withRewarm } from './rewarm-source.js';
import type { DemoStateReader } from './routes/demo-state.js';
import type { PbxAuth } from './routes/pbx-intake.js';
import type { CallOriginator } from './routes/retailcrm-callbacks.js';
import { createSecretBox } from './secret-box.js';
import { CONFIG_CHANGED_CHANNEL } from './storage/migrations.js';
import { createPgliteStorage } from './storage/pglite.js';
import { createPgliteThreadStorage, type PgliteListener, pgliteWorkerScript } from './storage/pglite-thread.js';
import { createPostgresStorage } from './storage/postgres.js';
import type { Storage } from './storage/types.js';
import { createTelephony, type Telephony } from './telephony.js';

export interface StartServerOptions {
  config: AppConfig;
  logger?: Logger;
  clientFactory?: RetailCrmClientFactory;
  /** PGlite: keep data in memory instead of `config.dataDir` (tests). */
  inMemory?: boolean;
  /** PGlite: `false` keeps it on the main thread even when the worker script is built (default: a worker thread). */
  pgliteThread?: boolean;
  /** Click-to-call; default: AMI Originate when AMI_HOST is configured. */
  originator?: CallOriginator;
  /** Smart-redirect channel redirector; default: AMI Redirect when AMI_HOST is configured. */
  redirector?: ChannelRedirector;
  /** BullMQ key prefix when REDIS_URL is set (tests use a random one). */
  redisPrefix?: string;
  /** Cache timings (tests shorten them). */
  cache?: { fullRefreshIntervalMs?: number };
  /** `--demo`: what the in-process fake RetailCRM holds, for `GET /demo/retailcrm/state`. */
  demoState?: DemoStateReader;
  /** Phone API tuning (tests inject a clock and shorter upload retries). */
  phone?: Pick<PhoneModuleOptions, 'clock' | 'onlineWindowMs' | 'ackTimeoutMs' | 'pull' | 'upload'>;
}

export interface RunningServer {
  url: string;
  server: Server;
  storage: Storage;
  context: AppContext;
  configCache: ConfigCache<EnterpriseRetailCrm>;
  enablementCache: ConfigCache<Record<string, boolean>>;
  telephony: Telephony;
  messenger: Messenger;
  phone: PhoneModule;
  /** Graceful: stop accepting, finish in-flight requests (bounded), stop caches, close storage. */
  close(): Promise<void>;
}

/** Opens storage (PGlite unless DATABASE_URL), starts the config caches and listens. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  let storage: Storage;
  let pglite: PgliteListener | undefined;
  // The built server runs PGlite in a worker thread (its WebAssembly work then leaves the HTTP event loop free);
  // from source (tests) there is no worker script and PGlite runs on the main thread.
  const workerScript = options.pgliteThread === false ? undefined : pgliteWorkerScript();
  if (config.databaseUrl) {
    storage = await createPostgresStorage(config.databaseUrl);
  } else if (workerScript) {
    const opened = await createPgliteThreadStorage(options.inMemory ? undefined : config.dataDir, workerScript);
    storage = opened.storage;
    pglite = opened.listener;
  } else {
    const opened = await createPgliteStorage(options.inMemory ? undefined : config.dataDir);
    storage = opened.storage;
    pglite = opened.db;
  }
  const invalidation = (): InvalidationSource =>
    pglite
      ? createPgliteInvalidationSource({ db: pglite, channel: CONFIG_CHANGED_CHANNEL })
      : createPgListenInvalidationSource({
          connectionString: config.databaseUrl as string,
          channel: CONFIG_CHANGED_CHANNEL,
        });

  const secrets = createSecretBox(config.secretKey);
  const loader = createRetailCrmConfigLoader(storage, secrets);
  const knownKeys = new Set<string>();
  const rewarm = (cache: () => ConfigCache<unknown>) => (key: string | undefined) => {
    if (key === undefined) {
      cache()
        .refreshAll()
        .catch(() => undefined);
      return;
    }
    knownKeys.add(key);
    // Reload right away so the call path never pays the miss; failures are counted by the cache.
    setImmediate(() =>
      cache()
        .get(key)
        .catch(() => undefined),
    );
  };
  const configCache: ConfigCache<EnterpriseRetailCrm> = createConfigCache<EnterpriseRetailCrm>({
    name: 'retailcrm-config',
    loader,
    invalidation: withRewarm(
      invalidation(),
      rewarm(() => configCache),
    ),
    fullRefreshIntervalMs: options.cache?.fullRefreshIntervalMs,
    // config-cache's logger port is pino's shape: the logger goes in as is.
    logger,
  });
  // Enablement matrix for the call path: enterprise -> {retailcrm: bool}.
  const enablementCache: ConfigCache<Record<string, boolean>> = createConfigCache<Record<string, boolean>>({
    name: 'enablement-matrix',
    loader: {
      async load(key, signal) {
        const v = await loader.load(key, signal);
        return v ? { retailcrm: isDeliveryEnabled(v) } : undefined;
      },
      async loadAll(signal) {
        return [...(await loader.loadAll(signal))].map(([k, v]) => [k, { retailcrm: isDeliveryEnabled(v) }] as const);
      },
    },
    invalidation: withRewarm(
      invalidation(),
      rewarm(() => enablementCache),
    ),
    fullRefreshIntervalMs: options.cache?.fullRefreshIntervalMs,
    logger,
  });
  // PBX token and active flag for the event intake: no database read per event.
  const pbxAuthCache: ConfigCache<PbxAuth> = createConfigCache<PbxAuth>({
    name: 'pbx-auth',
    loader: {
      async load(key) {
        const e = await storage.getEnterprise(key);
        return e ? { pbxToken: e.pbxToken, active: e.active } : undefined;
      },
      async loadAll() {
        return (await storage.listEnterprises()).map(
          (e) => [e.number, { pbxToken: e.pbxToken, active: e.active }] as const,
        );
      },
    },
    invalidation: invalidation(),
    fullRefreshIntervalMs: options.cache?.fullRefreshIntervalMs,
    logger,
  });
  await pbxAuthCache.start();
  await pbxAuthCache.refreshAll().catch((err) => logger.warn({ err }, 'initial PBX token cache load failed'));
  await configCache.start();
  await configCache.refreshAll().catch((err) => logger.warn({ err }, 'initial config cache load failed'));
  await enablementCache.refreshAll().catch(() => undefined);
  for (const k of configCache.keys()) knownKeys.add(k);
  await enablementCache.start();

  const clientFactory = options.clientFactory ?? defaultClientFactory;
  let ami: AmiClient | undefined;
  if (config.ami && (!options.originator || !options.redirector)) {
    ami = createAmiClient({
      host: config.ami.host,
      port: config.ami.port,
      username: config.ami.username,
      secret: config.ami.secret,
    });
    // Connects in the background with backoff; actions fail fast until it is up.
    ami.connect().catch((err) => logger.error({ err: String(err) }, 'AMI login failed'));
  }
  const amiContext = config.ami?.context ?? 'from-internal';
  const originator: CallOriginator | undefined =
    options.originator ??
    (ami
      ? {
          async originate({ extension, phone }) {
            await (ami as AmiClient).originate({
              channel: `Local/${extension}@${amiContext}`,
              exten: phone,
              context: amiContext,
              priority: 1,
              callerId: phone,
              timeoutMs: 30_000,
              // The dialplan copies it into the events as `CallbridgeOriginate`: that leg is ours, not a customer call.
              variables: { CALLBRIDGE_ORIGINATE: '1' },
            });
          },
        }
      : undefined);
  // One way to RetailCRM for PBX events, smart redirect and phone call results: one breaker per account.
  const egress = createRetailCrmEgress({
    config: configCache,
    clientFactory,
    storage,
    logger,
    budget: {
      timeoutMs: config.delivery.timeoutMs,
      breakerFailures: config.delivery.breakerFailures,
      breakerHalfOpenMs: config.delivery.breakerHalfOpenMs,
      // Every delivery call is a `/telephony/*` call: RetailCRM's telephony limit, not the general 10/s.
      // Paced (burst 1) 5 % under the account's limit: the 20-50 ms between sending and arrival can move one more
      // request into the second RetailCRM counts at arrival.
      rateLimit: { perSecond: config.delivery.ratePerSecond * 0.95, burst: 1 },
      uploadWindowMs: config.delivery.uploadWindowMs,
      // Every running job (and the phone uploads and lookups beside them) may wait on one account with a backlog.
      waitingPerAccount: config.delivery.concurrency + 100,
    },
  });
  const telephony = createTelephony({
    storage,
    egress,
    enablementCache,
    logger,
    redisUrl: config.redisUrl,
    redisPrefix: options.redisPrefix ?? config.delivery.redisPrefix,
    timeZone: config.retailCrmTimeZone,
    delivery: config.delivery,
    redirector: options.redirector ?? (ami ? createAmiChannelRedirector(ami) : undefined),
  });
  await telephony.pipeline.start();
  const phone = createPhoneModule({
    storage,
    jwtSecret: config.jwtSecret,
    egress,
    logger,
    redisUrl: config.redisUrl,
    redisPrefix: options.redisPrefix ?? config.delivery.redisPrefix,
    ...options.phone,
    upload: { timeZone: config.retailCrmTimeZone, ...options.phone?.upload },
  });
  await phone.start();

  const messenger = createMessenger({
    config,
    messenger: config.messenger,
    sql: storage.sql,
    logger,
    // Not REDIS_PREFIX: by default the hub keeps the seed's exact key names (shared with the workers).
    redisPrefix: options.redisPrefix,
  });

  let shuttingDown = false;
  const context = createApp(config, {
    storage,
    messenger,
    logger,
    clientFactory,
    telephony,
    originator,
    configCache,
    enablementCache,
    pbxAuth: (n) => pbxAuthCache.get(n),
    phone,
    demoState: options.demoState,
    isShuttingDown: () => shuttingDown,
    knownCacheKeys: () => {
      for (const k of configCache.keys()) knownKeys.add(k);
      return [...knownKeys];
    },
  });
  const server = createServer(context.handler);
  server.requestTimeout = 30_000;
  answerMalformedRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  logger.info({ url, storage: storage.kind }, 'reference-server listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Held long-polls answer 204 now instead of holding the shutdown for up to 30 s.
      await phone.protocol.close();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      // Drain accepted events before the caches and storage they need go away.
      await telephony.close().catch((err) => logger.error({ err }, 'telephony close failed'));
      await messenger.close().catch((err) => logger.error({ err }, 'messenger close failed'));
      await ami?.close().catch(() => undefined);
      await phone.close().catch((err) => logger.error({ err }, 'phone close failed'));
      // Log rows held back by a storage outage get one more try while storage is still open.
      await egress.log.close();
      await Promise.allSettled([configCache.close(), enablementCache.close(), pbxAuthCache.close()]);
      await storage.close();
      logger.info('reference-server stopped');
    })();
    return closing;
  };
  return { url, server, storage, context, configCache, enablementCache, telephony, messenger, phone, close };
}
