import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ConfigCache } from '@callbridge/config-cache';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth.js';
import type { AppConfig } from './config.js';
import type { EnterpriseRetailCrm } from './egress/account-config.js';
import { defaultClientFactory, type RetailCrmClientFactory } from './egress/client-factory.js';
import { createIntegrationLogWriter } from './egress/integration-log.js';
import { errorHandler } from './error-handler.js';
import { HttpError } from './errors.js';
import { rejectMalformedUrl, rejectUnstorableBody } from './input-guard.js';
import { createLogger, redactUrl } from './logger.js';
import type { Messenger } from './messenger/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { createPhoneAdminRouter } from './phone/admin-routes.js';
import { createHotPull } from './phone/hot-pull.js';
import type { PhoneModule } from './phone/module.js';
import { createHostPolicy } from './retailcrm/host-policy.js';
import { RetailCrmService } from './retailcrm/service.js';
import { createAdminApiRouter } from './routes/admin-api.js';
import { createDemoStateRouter, type DemoStateReader } from './routes/demo-state.js';
import { captureHeaders, createHotIntake } from './routes/hot-intake.js';
import { createPbxRouter } from './routes/pbx.js';
import { createPbxIntake, type PbxAuthLookup } from './routes/pbx-intake.js';
import { type CallOriginator, createRetailCrmCallbacksRouter } from './routes/retailcrm-callbacks.js';
import { createSystemRouter } from './routes/system.js';
import { createSecretBox } from './secret-box.js';
import type { Storage } from './storage/types.js';
import type { Telephony } from './telephony.js';

export interface AppDeps {
  storage: Storage;
  logger?: Logger;
  /** How RetailCRM clients are made (tests inject msw-backed fetch through here). */
  clientFactory?: RetailCrmClientFactory;
  configCache?: ConfigCache<EnterpriseRetailCrm>;
  enablementCache?: ConfigCache<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
  metrics?: Metrics;
  now?: () => Date;
  /** Random bytes for RetailCRM callback secrets (default: node:crypto). */
  random?: (n: number) => Buffer;
  /** Event delivery + smart redirect (telephony-events); routes are absent without it. */
  telephony?: Telephony;
  /** Click-to-call for RetailCRM's makeCallUrl (AMI Originate in production). */
  originator?: CallOriginator;
  /** Every enterprise the config cache has seen (for active-enterprises). */
  knownCacheKeys?: () => string[];
  /** Phone API (/api/token/*, /api/phone/*, /api/phone-admin/*) and click-to-call via the phone app. */
  phone?: PhoneModule;
  /** Messenger hub routes (/send, /webhook*, /pub/*, /admin/key*, /internal/*); absent without it. */
  messenger?: Messenger;
  /** `--demo` only: serves `GET /demo/retailcrm/state` from the in-process fake RetailCRM. */
  demoState?: DemoStateReader;
  /** PBX token and enablement of an enterprise, from a config cache (default: a storage read per request). */
  pbxAuth?: PbxAuthLookup;
}

export interface AppContext {
  app: Express;
  /** What the HTTP server runs: the PBX event and phone long-poll hot paths, then the Express app for everything else. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  service: RetailCrmService;
  metrics: Metrics;
  logger: Logger;
}

/** Static admin UI (no build step): `public/` next to `src/` and `dist/`. */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** Builds the Express app; no listening, no background work (see `startServer`). */
export function createApp(config: AppConfig, deps: AppDeps): AppContext {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? createMetrics();
  const secrets = createSecretBox(config.secretKey);
  const auth = createAuthenticator({
    adminToken: config.adminToken,
    jwtSecret: config.jwtSecret,
    storage: deps.storage,
  });
  const service = new RetailCrmService({
    storage: deps.storage,
    secrets,
    auth,
    clientFactory: deps.clientFactory ?? defaultClientFactory,
    publicBaseUrl: config.publicBaseUrl,
    moduleCode: config.moduleCode,
    now: deps.now,
    random: deps.random,
    hostPolicy: createHostPolicy(config.retailCrmHosts),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const securityHeaders = helmet();
  app.use(securityHeaders);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
      logger.debug(
        { method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(seconds * 1000) },
        'request',
      );
    });
    next();
  });

  app.use(rejectMalformedUrl);
  // Before the global parsers: the phone router parses its own bodies (6 MB log bundles, DRF-style errors).
  if (deps.phone) app.use(deps.phone.router);
  app.use(express.json({ limit: config.bodyLimitJson, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: true, limit: config.bodyLimitForm, parameterLimit: 200 }));
  app.use(rejectUnstorableBody);

  app.use(
    createSystemRouter({
      storage: deps.storage,
      metrics,
      startedAt: Date.now(),
      configCache: deps.configCache,
      enablementCache: deps.enablementCache,
      isShuttingDown: deps.isShuttingDown ?? (() => false),
      telephony: deps.telephony,
      phone: deps.phone,
    }),
  );

  let openapi: unknown;
  app.get('/openapi.json', (_req, res) => {
    openapi ??= buildOpenApi(config.publicBaseUrl);
    res.json(openapi);
  });

  if (deps.messenger) {
    deps.messenger.metrics.register(metrics.registry);
    app.use(deps.messenger.router);
  }
  if (deps.phone)
    app.use('/api/phone-admin', createPhoneAdminRouter({ auth, storage: deps.storage, phone: deps.phone }));
  // Before the admin router: it authenticates everything under /api with admin credentials.
  const intake = deps.telephony
    ? createPbxIntake({
        pbxAuth: deps.pbxAuth ?? (async (n) => deps.storage.getEnterprise(n)),
        telephony: deps.telephony,
        metrics,
      })
    : undefined;
  if (deps.telephony && intake) {
    const pbx = createPbxRouter({ telephony: deps.telephony, intake });
    // Also at the original's path, so a PBX configured for it needs no proxy rule.
    app.use('/api', pbx);
    app.use('/retailcrm/api', pbx);
  }

  app.use(
    '/retailcrm',
    createRetailCrmCallbacksRouter({
      storage: deps.storage,
      secrets,
      integrationLog: createIntegrationLogWriter(deps.storage, logger),
      logger,
      originator: deps.originator,
      phoneDialer: deps.phone?.dialer,
    }),
  );
  if (deps.demoState) app.use(createDemoStateRouter({ auth, read: deps.demoState }));

  const adminApi = createAdminApiRouter({
    auth,
    service,
    storage: deps.storage,
    metrics,
    configCache: deps.configCache,
    enablementCache: deps.enablementCache,
    knownCacheKeys: deps.knownCacheKeys,
    deliveryQueue: deps.telephony,
    timeZone: config.retailCrmTimeZone,
  });
  app.use('/retailcrm-admin/api', adminApi);
  app.use('/api', adminApi);

  // The page itself holds no data: every read goes through the authenticated API.
  app.get('/retailcrm-admin', (req, res, next) => {
    // Express routing is not strict: `/retailcrm-admin/` matches here too and goes to the static files.
    if ((req.originalUrl.split('?')[0] ?? '').endsWith('/')) return next();
    const q = req.originalUrl.indexOf('?');
    res.redirect(301, `/retailcrm-admin/${q >= 0 ? req.originalUrl.slice(q) : ''}`);
  });
  // RetailCRM's "Go to account" may open accountUrl with a POST: 303 to the same URL, so it loads like a GET.
  app.post('/retailcrm-admin', (req, res) => {
    const q = req.originalUrl.indexOf('?');
    res.redirect(303, `/retailcrm-admin/${q >= 0 ? req.originalUrl.slice(q) : ''}`);
  });
  app.use(
    '/retailcrm-admin',
    express.static(PUBLIC_DIR, {
      index: 'index.html',
      maxAge: 0,
      setHeaders: (res) => res.setHeader('Referrer-Policy', 'no-referrer'),
    }),
  );

  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  app.use(errorHandler(logger));

  // PBX events and phone long-polls are served before the general stack: same handlers, same headers, none of its
  // per-request cost. Anything they do not serve identically falls through to Express.
  const headers = captureHeaders(securityHeaders as never);
  const hotRoutes = [
    intake
      ? createHotIntake({
          intake,
          metrics,
          maxBodyBytes: Math.min(64 * 1024, parseByteSize(config.bodyLimitJson)),
          headers,
        })
      : undefined,
    deps.phone ? createHotPull({ protocol: deps.phone.protocol, metrics, logger, headers }) : undefined,
  ].filter((route) => route !== undefined);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    for (const route of hotRoutes) if (route(req, res)) return;
    app(req, res);
  };
  return { app, handler, service, metrics, logger };
}

/** `16kb`, `1mb`, `100` -> bytes (0 when unreadable: the hot path then leaves every body to Express). */
function parseByteSize(limit: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) return 0;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}
