import type { ConfigCache } from '@callbridge/config-cache';
import type { DeliveryQueue } from '@callbridge/telephony-events';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type Authenticator, credentialFromHeaders, type Principal } from '../auth.js';
import { type EnterpriseRetailCrm, isDeliveryEnabled } from '../egress/account-config.js';
import { forbidden, HttpError, unauthorized } from '../errors.js';
import type { Metrics } from '../metrics.js';
import {
  domainSchema,
  enterpriseNumberSchema,
  patchConfigBodySchema,
  putConfigBodySchema,
  saveExtensionsBodySchema,
} from '../retailcrm/config-schema.js';
import type { RetailCrmService } from '../retailcrm/service.js';
import type { Storage } from '../storage/types.js';
import { registerDeadLetterRoutes } from './dead-letters.js';
import { registerIntegrationLogRoutes } from './integration-logs.js';

/** Principal of an authenticated request (a WeakMap avoids augmenting Express's types). */
const principals = new WeakMap<Request, Principal>();

export interface AdminApiDeps {
  auth: Authenticator;
  service: RetailCrmService;
  storage: Storage;
  metrics: Metrics;
  configCache?: ConfigCache<EnterpriseRetailCrm>;
  enablementCache?: ConfigCache<Record<string, boolean>>;
  knownCacheKeys?: () => string[];
  /** Dead-letter re-send enqueues here (the telephony delivery queue); re-send answers 503 without it. */
  deliveryQueue?: Pick<DeliveryQueue, 'enqueue'>;
  /** IANA zone of the RetailCRM account: the admin UI shows dates in it. */
  timeZone?: string;
}

/** Refuses POST/PUT/PATCH bodies that are neither JSON nor form (otherwise they would silently parse as empty). */
function requireKnownBody(req: Request, _res: Response, next: NextFunction) {
  const length = Number(req.headers['content-length'] ?? 0);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (['POST', 'PUT', 'PATCH'].includes(req.method) && (length > 0 || chunked)) {
    if (!req.is(['application/json', 'application/*+json', 'application/x-www-form-urlencoded'])) {
      next(new HttpError(415, 'unsupported_media_type', 'send application/json or application/x-www-form-urlencoded'));
      return;
    }
  }
  next();
}

const body = (req: Request): unknown => (req.body && typeof req.body === 'object' ? req.body : {});

export function enterpriseParam(req: Request): string {
  const parsed = enterpriseNumberSchema.safeParse(req.params.enterpriseNumber);
  if (!parsed.success) throw new HttpError(400, 'invalid_enterprise_number', 'invalid enterprise_number');
  return parsed.data;
}

/** Admin API; mounted twice (`/api` and `/retailcrm-admin/api`), same handlers. */
export function createAdminApiRouter(deps: AdminApiDeps): Router {
  const { auth, service, storage, metrics } = deps;
  const r = Router();

  const authenticate = async (req: Request, _res: Response, next: NextFunction) => {
    const credential = credentialFromHeaders(req.headers);
    if (!credential) {
      metrics.authFailures.inc({ reason: 'missing' });
      throw unauthorized();
    }
    const principal = await auth.authenticate(credential);
    if (!principal) {
      metrics.authFailures.inc({ reason: 'invalid' });
      throw unauthorized('invalid, expired or revoked token');
    }
    principals.set(req, principal);
    next();
  };

  /** Admin token: any enterprise. Account JWT: only its own enterprise. */
  const forEnterprise = (req: Request, _res: Response, next: NextFunction) => {
    const number = enterpriseParam(req);
    const p = principals.get(req);
    if (p?.kind === 'enterprise' && p.enterpriseNumber !== number) {
      metrics.authFailures.inc({ reason: 'wrong_enterprise' });
      throw forbidden();
    }
    next();
  };

  const adminOnly = (req: Request, _res: Response, next: NextFunction) => {
    if (principals.get(req)?.kind !== 'admin') {
      metrics.authFailures.inc({ reason: 'not_admin' });
      throw forbidden('operator (admin token) access required');
    }
    next();
  };

  r.use(requireKnownBody);
  r.use(authenticate);

  r.get('/whoami', (req, res) => {
    res.json({ ok: true, principal: principals.get(req) });
  });

  const cfgPath = '/config/:enterpriseNumber';
  r.get(cfgPath, forEnterprise, async (req, res) => {
    const current = await service.getConfig(enterpriseParam(req));
    // The enterprise's own zone wins over the server-wide default.
    res.json({ ok: true, ...current, time_zone: current.config.time_zone ?? deps.timeZone ?? 'UTC' });
  });
  r.put(cfgPath, forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const config = await service.putConfig(n, putConfigBodySchema.parse(body(req)));
    deps.configCache?.invalidate(n);
    res.json({ ok: true, config });
  });
  r.patch(cfgPath, forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const config = await service.patchConfig(n, patchConfigBodySchema.parse(body(req)));
    deps.configCache?.invalidate(n);
    res.json({ ok: true, config });
  });
  r.delete(cfgPath, forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const result = await service.deleteConfig(n);
    deps.configCache?.invalidate(n);
    res.json({ ok: true, ...result });
  });

  const testBody = z.object({ domain: domainSchema.optional(), api_key: z.string().trim().max(200).optional() });
  r.post('/test/:enterpriseNumber', forEnterprise, async (req, res) => {
    const b = testBody.parse(body(req));
    res.json({ ok: true, ...(await service.testConnection(enterpriseParam(req), b)) });
  });

  /** "Save and register": an optional settings body is applied (PATCH semantics) before registering. */
  r.post('/register/:enterpriseNumber', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const b = patchConfigBodySchema.parse(body(req));
    if (Object.values(b).some((v) => v !== undefined)) await service.patchConfig(n, b);
    const result = await service.register(n);
    deps.configCache?.invalidate(n);
    res.json({ ok: true, ...result });
  });
  r.post('/unregister/:enterpriseNumber', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const result = await service.unregister(n);
    deps.configCache?.invalidate(n);
    res.json({ ok: true, ...result });
  });

  r.get('/managers/:enterpriseNumber', forEnterprise, async (req, res) => {
    res.json({ ok: true, ...(await service.managers(enterpriseParam(req))) });
  });
  r.get('/internal-phones/:enterpriseNumber', forEnterprise, async (req, res) => {
    res.json({ ok: true, phones: await service.internalPhones(enterpriseParam(req)) });
  });
  r.get('/user-extensions/:enterpriseNumber', forEnterprise, async (req, res) => {
    const { config } = await service.getConfig(enterpriseParam(req));
    res.json({ ok: true, user_extensions: config.user_extensions });
  });
  r.post('/save-extensions/:enterpriseNumber', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const { extensions } = saveExtensionsBodySchema.parse(body(req));
    const result = await service.saveExtensions(n, extensions);
    deps.configCache?.invalidate(n);
    res.json({ ok: true, ...result });
  });
  r.post('/sync-extensions/:enterpriseNumber', forEnterprise, async (req, res) => {
    res.json({ ok: true, ...(await service.syncExtensions(enterpriseParam(req))) });
  });

  registerIntegrationLogRoutes(r, { storage, service, forEnterprise, enterpriseParam });
  registerDeadLetterRoutes(r, { storage, service, forEnterprise, enterpriseParam, deliveryQueue: deps.deliveryQueue });

  const cache = () => {
    if (!deps.configCache) throw new HttpError(503, 'cache_unavailable', 'config cache is not running');
    return deps.configCache;
  };
  r.post('/config-cache/refresh/:enterpriseNumber', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    cache().invalidate(n);
    deps.enablementCache?.invalidate(n);
    const value = await cache().get(n);
    res.json({ ok: true, enterprise_number: n, found: value !== undefined, enabled: isDeliveryEnabled(value) });
  });
  r.post('/config-cache/refresh-all', adminOnly, async (_req, res) => {
    await cache().refreshAll();
    await deps.enablementCache?.refreshAll();
    res.json({ ok: true, size: cache().keys().length });
  });
  r.get('/config-cache/active-enterprises', adminOnly, async (_req, res) => {
    const c = cache();
    const keys = deps.knownCacheKeys?.() ?? c.keys();
    // Cached reads; a key invalidated a moment ago is reloaded here rather than silently skipped.
    const values = await Promise.all(keys.map((k) => c.get(k).catch(() => undefined)));
    const active = values
      .filter((v): v is EnterpriseRetailCrm => isDeliveryEnabled(v))
      .map((v) => v.enterprise_number)
      .sort();
    res.json({ ok: true, count: active.length, enterprises: active });
  });
  r.get('/config-cache/stats', adminOnly, (_req, res) => {
    res.json({ ok: true, config: cache().metrics(), enablement: deps.enablementCache?.metrics() ?? null });
  });

  const deadLetterQuery = z.object({
    queue: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  });
  r.get('/dead-letters', adminOnly, async (req, res) => {
    const q = deadLetterQuery.parse(req.query);
    res.json({ ok: true, items: await storage.listDeadLetters(q.queue, q.limit) });
  });

  // Unknown path under the API prefix: JSON 404 rather than the HTML default.
  r.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  return r;
}
