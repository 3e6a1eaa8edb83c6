import {
  type AvitoAdapter,
  createAvitoAdapter,
  createPublicKeyAuth,
  createTelegramWorkerAdapter,
  createWhatsAppWebAdapter,
  type FetchLike,
  type InboundDedup,
  MemoryInboundDedup,
  type PublicKeyAuth,
  parseWhitelist,
  type TelegramWorkerAdapter,
  type WhatsAppWebAdapter,
} from '@callbridge/messenger-contract';
import { RedisInboundDedup } from '@callbridge/messenger-contract/redis';
import type { Router } from 'express';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { createSecretBox } from '../secret-box.js';
import type { SqlDriver } from '../storage/sql-driver.js';
import { createContactsRouter, createTenantSettingsRouter } from './admin-routes.js';
import { type AutoReplier, createAutoReplier } from './auto-reply.js';
import { type CatalogUploads, createCatalogUploads } from './catalog.js';
import type { MessengerConfig } from './config.js';
import { createConnectRouter, OAuthStateStore } from './connect-routes.js';
import { ContactStore } from './contacts.js';
import { createMessengerMetrics, type MessengerMetrics } from './metrics.js';
import { createOutbox, type Outbox } from './outbox.js';
import { PersonaStore } from './persona.js';
import {
  type InboxQueue,
  MemoryInboxQueue,
  MemoryQrCache,
  type QrCache,
  RedisInboxQueue,
  RedisQrCache,
} from './queues.js';
import { createOpenAiChatModel } from './reply-model.js';
import { createMessengerRouter } from './routes.js';
import {
  MessengerStore,
  SqlAvitoChatCache,
  SqlAvitoTokenStore,
  SqlProviderTokenStore,
  SqlTenantKeyStore,
} from './store.js';

export type { MessengerConfig } from './config.js';
export { parseMessengerEnv } from './config.js';
export { messengerMigrations } from './migration.js';

export interface MessengerDeps {
  config: AppConfig;
  messenger: MessengerConfig;
  sql: SqlDriver;
  logger: Logger;
  /** Prefix of the hub's Redis keys (tests use a random one); default none, i.e. the seed's exact key names. */
  redisPrefix?: string;
  /** Upstream fetch (default globalThis.fetch, which msw intercepts in tests). */
  fetch?: FetchLike;
}

/** The messenger hub: stores, queues, adapters and the Express router of the seed's routes. */
export interface Messenger {
  router: Router;
  store: MessengerStore;
  contacts: ContactStore;
  outbox: Outbox;
  personas: PersonaStore;
  autoReplier: AutoReplier;
  providerTokens: SqlProviderTokenStore;
  tenantKeys: SqlTenantKeyStore;
  inbox: InboxQueue;
  dedup: InboundDedup;
  qrCache: QrCache;
  catalog: CatalogUploads;
  telegram: TelegramWorkerAdapter;
  whatsapp: WhatsAppWebAdapter;
  avito: AvitoAdapter;
  publicAuth: PublicKeyAuth;
  metrics: MessengerMetrics;
  /** Waits for catalog jobs, closes the Redis connection. */
  close(): Promise<void>;
}

export function createMessenger(deps: MessengerDeps): Messenger {
  const { config, messenger: mc, sql, logger } = deps;
  const secrets = createSecretBox(config.secretKey);
  const store = new MessengerStore(sql);
  const providerTokens = new SqlProviderTokenStore(sql, secrets);
  const tenantKeys = new SqlTenantKeyStore(sql, secrets);

  let redis: Redis | undefined;
  const prefix = deps.redisPrefix ? `${deps.redisPrefix}:` : '';
  if (config.redisUrl) {
    // Fail fast while Redis is down: the webhook answers 503 and the provider retries.
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', (err) => logger.warn({ err: err.message }, 'messenger redis error'));
  }
  const inbox: InboxQueue = redis ? new RedisInboxQueue(redis, `${prefix}inbox:message_in`) : new MemoryInboxQueue();
  const dedup: InboundDedup = redis
    ? new RedisInboundDedup(redis, { prefix: `${prefix}inbox:dedup:`, ttlMs: mc.dedupTtlMs })
    : new MemoryInboundDedup({ ttlMs: mc.dedupTtlMs });
  const qrCache: QrCache = redis ? new RedisQrCache(redis, prefix) : new MemoryQrCache();

  const telegram = createTelegramWorkerAdapter({
    baseUrl: mc.tgworkerBaseUrl,
    adminToken: config.adminToken,
    providerTokens,
    fetch: deps.fetch,
  });
  const whatsapp = createWhatsAppWebAdapter({
    baseUrlFor: (tenant) => mc.wawebUrlTemplate.replaceAll('{tenant}', String(tenant)),
    authToken: mc.wawebAdminToken ?? config.adminToken,
    providerTokens,
    fetch: deps.fetch,
  });
  const avito = createAvitoAdapter({
    clientId: mc.avito?.clientId ?? '',
    clientSecret: mc.avito?.clientSecret ?? '',
    baseUrl: mc.avito?.apiUrl,
    tokenStore: new SqlAvitoTokenStore(sql, secrets),
    chatCache: new SqlAvitoChatCache(sql),
    providerTokens,
    fetch: deps.fetch,
  });
  const publicAuth = createPublicKeyAuth({
    publicKey: mc.publicKey,
    adminToken: config.adminToken,
    logger,
  });
  const catalog = createCatalogUploads({ store, dataDir: config.dataDir, maxBytes: mc.maxUploadSizeBytes, logger });

  const metrics = createMessengerMetrics();
  const contacts = new ContactStore(sql);
  const outbox = createOutbox({
    guards: { enabled: mc.outboxEnabled, whitelist: parseWhitelist(mc.outboxWhitelist) },
    requireLead: mc.outboxRequireLead,
    store,
    contacts,
    adapters: { telegram, whatsapp, avito },
    logger,
    metrics,
  });
  const personas = new PersonaStore(sql);
  const autoReplier = createAutoReplier({
    model: mc.llm === undefined ? undefined : createOpenAiChatModel({ ...mc.llm, fetch: deps.fetch }),
    store,
    contacts,
    personas,
    outbox,
    logger,
  });
  const router = createMessengerRouter({
    adminToken: config.adminToken,
    internalToken: mc.waWebToken ?? config.adminToken,
    appBaseUrl: mc.appBaseUrl ?? config.publicBaseUrl,
    outbox,
    contacts,
    onInbound: (message, link) => autoReplier.handle(message, link),
    avitoConfigured: mc.avito !== undefined,
    store,
    providerTokens,
    tenantKeys,
    inbox,
    dedup,
    qrCache,
    catalog,
    adapters: { telegram, whatsapp, avito },
    publicAuth,
    logger,
    metrics,
  });

  router.use(
    createConnectRouter({
      publicAuth,
      tenantKeys,
      qrCache,
      providerTokens,
      store,
      states: new OAuthStateStore(sql),
      adapters: { avito },
      avito: mc.avito,
      appBaseUrl: mc.appBaseUrl ?? config.publicBaseUrl,
      logger,
    }),
  );
  router.use(createContactsRouter({ adminToken: config.adminToken, tenantKeys, contacts }));
  router.use(
    createTenantSettingsRouter({ adminToken: config.adminToken, tenantKeys, store, personas, autoReply: autoReplier }),
  );

  return {
    router,
    store,
    contacts,
    outbox,
    personas,
    autoReplier,
    providerTokens,
    tenantKeys,
    inbox,
    dedup,
    qrCache,
    catalog,
    telegram,
    whatsapp,
    avito,
    publicAuth,
    metrics,
    async close() {
      await autoReplier.close();
      await catalog.idle();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
