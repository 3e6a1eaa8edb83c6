import {
  AdapterError,
  type AvitoAdapter,
  connectLink,
  createWebhookHandler,
  generateTenantKey,
  getOrCreateTenantKey,
  type InboundDedup,
  type IncomingMessage,
  KeyAlreadyExistsError,
  type MessageIn,
  type ProviderAdapter,
  type PublicKeyAuth,
  parseTransportMessage,
  type TelegramLoginStatus,
  type TelegramWorkerAdapter,
  TenantSchema,
  type WhatsAppWebAdapter,
} from '@callbridge/messenger-contract';
import { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { credentialFromHeaders, safeEqual } from '../auth.js';
import { connectAvito } from './avito-connect.js';
import type { CatalogUploads } from './catalog.js';
import type { ContactStore, InboundLink } from './contacts.js';
import { type MessengerMetrics, webhookOutcome } from './metrics.js';
import type { Outbox } from './outbox.js';
import { checkPublicAccess } from './public-access.js';
import type { InboxQueue, QrCache } from './queues.js';
import type { MessengerStore, SqlProviderTokenStore, SqlTenantKeyStore } from './store.js';

export interface MessengerRouterDeps {
  adminToken: string;
  /** X-Auth-Token of /internal/tenant/{tenant}/ensure (WA_WEB_TOKEN, default ADMIN_TOKEN). */
  internalToken: string;
  /** Where workers post webhooks back (APP_BASE_URL, default PUBLIC_BASE_URL). */
  appBaseUrl: string;
  /** Every outgoing message goes through it (guards, lead check, idempotency, adapter). */
  outbox: Outbox;
  contacts: ContactStore;
  /** Called after an inbound message is stored and filed (the auto-reply); must not throw. */
  onInbound?: (message: IncomingMessage, link: InboundLink) => void;
  avitoConfigured: boolean;
  store: MessengerStore;
  providerTokens: SqlProviderTokenStore;
  tenantKeys: SqlTenantKeyStore;
  inbox: InboxQueue;
  dedup: InboundDedup;
  qrCache: QrCache;
  catalog: CatalogUploads;
  adapters: { telegram: TelegramWorkerAdapter; whatsapp: WhatsAppWebAdapter; avito: AvitoAdapter };
  publicAuth: PublicKeyAuth;
  logger: Logger;
  metrics: MessengerMetrics;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? str(v[0]) : undefined);

function tenantFrom(...candidates: unknown[]): number | undefined {
  for (const c of candidates) {
    if (c === undefined) continue;
    const parsed = TenantSchema.safeParse(typeof c === 'string' ? c.trim() : c);
    return parsed.success ? parsed.data : undefined;
  }
  return undefined;
}

const bodyOf = (req: Request): Record<string, unknown> =>
  req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};

/** Upstream failure of a public session route: the worker's 4xx code passes through, anything else is a 502. */
function sendUpstreamError(res: Response, error: unknown, unavailable: string): void {
  if (error instanceof AdapterError) {
    if (!error.isRetryable && error.status !== undefined && error.status >= 400 && error.status < 500) {
      res.status(error.status).json({ ok: false, error: error.code });
      return;
    }
    res.status(502).json({ ok: false, error: error.isRetryable ? unavailable : error.code });
    return;
  }
  throw error;
}

/** The seed's messenger hub routes: /send, /webhook*, /pub/tg|wa|settings|catalog, /admin/key*, /internal. */
export function createMessengerRouter(deps: MessengerRouterDeps): Router {
  const r = Router();
  const { adapters, store, logger } = deps;

  // ---- auth helpers -------------------------------------------------------------------------------------------
  const isAdmin = (req: Request): boolean => {
    const credential = credentialFromHeaders(req.headers);
    return credential !== undefined && safeEqual(credential, deps.adminToken);
  };
  const requireAdmin = (req: Request, res: Response): boolean => {
    if (isAdmin(req)) return true;
    res.status(401).json({ ok: false, error: 'unauthorized' });
    return false;
  };
  const invalidTenant = (res: Response) =>
    res.status(422).json({ ok: false, error: 'invalid_payload', reason: 'invalid_tenant' });

  /**
   * Public routes: `?k=` is PUBLIC_KEY (or ADMIN_TOKEN in compatibility mode), or the tenant's own key (the seed's
   * `/connect/wa?tenant=…&k=TENANT_KEY` links), which opens that tenant only. Answers 401 `{detail:"invalid_key"}`
   * or 422 invalid_tenant and returns undefined when refused.
   */
  const publicTenant = async (req: Request, res: Response): Promise<number | undefined> => {
    const access = await checkPublicAccess(deps, str(req.query.k), req.query.tenant ?? bodyOf(req).tenant);
    if (access.ok) return access.tenant;
    if (access.reason === 'invalid_key') res.status(401).json({ detail: 'invalid_key' });
    else invalidTenant(res);
    return undefined;
  };

  // ---- POST /send ---------------------------------------------------------------------------------------------
  r.post('/send', async (req, res) => {
    // The seed: authorisation strictly through X-Admin-Token.
    const token = str(req.headers['x-admin-token']);
    if (token === undefined || !safeEqual(token, deps.adminToken)) {
      res.status(401).json({ ok: false, error: 'unauthorized' });
      return;
    }
    const parsed = parseTransportMessage(req.body);
    if (!parsed.ok) {
      deps.metrics.sends.inc({ status: 'invalid', channel: 'unknown' });
      res.status(422).json({ ok: false, error: parsed.error, issues: parsed.issues });
      return;
    }
    const { message, target } = parsed.value;
    const out = await deps.outbox.send(message, target);
    if (out.retryAfter !== undefined) res.setHeader('Retry-After', String(out.retryAfter));
    res.status(out.status).json(out.body);
  });

  // ---- webhooks -------------------------------------------------------------------------------------------------
  const onEvent = async (event: MessageIn): Promise<void> => {
    if (event.event === 'qr') {
      await deps.qrCache.put(event.tenant, event.qr_id, event.svg);
      return;
    }
    let link: InboundLink | undefined;
    const stored = await store.recordEvent(event, async (tx, eventId) => {
      if (event.event === 'messages.incoming') link = await deps.contacts.attachInbound(tx, event, eventId);
      await deps.inbox.push(event);
    });
    logger.info(
      { event: stored ? 'incoming_enqueued' : 'incoming_duplicate', ch: event.channel, tenant: event.tenant },
      'webhook_received',
    );
    if (link !== undefined && event.event === 'messages.incoming') {
      logger.info({ tenant: event.tenant, lead: link.leadId, merged: link.merged.length }, 'lead_upsert_ok');
      deps.onInbound?.(event, link);
    }
  };
  const handlerFor = (adapter: ProviderAdapter) => {
    const handle = createWebhookHandler({ adapter, dedup: deps.dedup, onEvent, logger: deps.logger });
    return async (request: Parameters<typeof handle>[0]) => {
      const out = await handle(request);
      deps.metrics.webhooks.inc({ status: webhookOutcome(out.status, out.body), channel: adapter.channel });
      return out;
    };
  };
  const handlers = {
    telegram: handlerFor(adapters.telegram),
    whatsapp: handlerFor(adapters.whatsapp),
    avito: handlerFor(adapters.avito),
  };

  r.post('/webhook', async (req, res) => {
    const b = bodyOf(req);
    // Both workers post here; the event's channel/provider picks the parser (WhatsApp by default, as waweb omits it).
    const telegram = b.channel === 'telegram' || b.provider === 'telegram';
    const out = await (telegram ? handlers.telegram : handlers.whatsapp)({
      body: req.body,
      query: req.query,
      headers: req.headers,
    });
    res.status(out.status).json(out.body);
  });

  r.post('/webhook/telegram', async (req, res) => {
    const out = await handlers.telegram({ body: req.body, query: req.query, headers: req.headers });
    res.status(out.status).json(out.body);
  });

  const avitoWebhook = async (req: Request, res: Response) => {
    const raw = str(req.params.tenant) ?? str(req.query.tenant);
    let tenant = raw === undefined ? undefined : tenantFrom(raw);
    if (raw !== undefined && tenant === undefined) {
      invalidTenant(res);
      return;
    }
    // The URL registered at Avito may carry only the token: find its tenant (verified again, in constant time).
    const token = str(req.query.token) ?? str(req.headers['x-provider-token']);
    if (tenant === undefined && token !== undefined) tenant = await deps.providerTokens.tenantOf(token);
    if (tenant === undefined) {
      res.status(401).json({ ok: false, error: 'provider_token_unauthorized' });
      return;
    }
    const out = await handlers.avito({ body: req.body, query: req.query, headers: req.headers, tenant });
    res.status(out.status).json(out.body);
  };
  r.post('/webhook/avito', avitoWebhook);
  r.post('/webhook/avito/:tenant', avitoWebhook);

  // ---- /pub/tg/* ------------------------------------------------------------------------------------------------
  const tgQrUrl = (tenant: number, qrId: string | undefined) =>
    qrId === undefined ? null : `/pub/tg/qr.png?tenant=${tenant}&qr_id=${encodeURIComponent(qrId)}`;
  const tgStatusBody = (tenant: number, s: TelegramLoginStatus) => ({
    ok: true,
    tenant,
    state: s.state,
    authorized: s.state === 'authorized',
    needs_2fa: s.needs2fa,
    qr_id: s.qrId ?? null,
    qr_url: tgQrUrl(tenant, s.qrId),
    expires_at: s.expiresAt ?? null,
  });
  const tgStart = async (req: Request, res: Response) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    try {
      res.json(tgStatusBody(tenant, (await adapters.telegram.session.start(tenant)) as TelegramLoginStatus));
    } catch (error) {
      sendUpstreamError(res, error, 'tg_unavailable');
    }
  };
  r.get('/pub/tg/start', tgStart);
  r.post('/pub/tg/start', tgStart);
  r.get('/pub/tg/status', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    try {
      res.json(tgStatusBody(tenant, (await adapters.telegram.session.status(tenant)) as TelegramLoginStatus));
    } catch (error) {
      sendUpstreamError(res, error, 'tg_unavailable');
    }
  });
  r.get('/pub/tg/qr.png', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const qrId = str(req.query.qr_id);
    if (qrId === undefined || qrId === '') {
      res.status(404).json({ ok: false, error: 'qr_not_found' });
      return;
    }
    try {
      const image = await adapters.telegram.session.qr(tenant, qrId);
      res.setHeader('Cache-Control', 'no-store');
      res.type('image/png').send(Buffer.from(image.body));
    } catch (error) {
      sendUpstreamError(res, error, 'tg_unavailable');
    }
  });
  r.post('/pub/tg/2fa', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const password = bodyOf(req).password;
    if (typeof password !== 'string' || password === '') {
      res.status(422).json({ ok: false, error: 'invalid_payload', reason: 'missing_password' });
      return;
    }
    try {
      res.json(tgStatusBody(tenant, await adapters.telegram.session.submitPassword(tenant, password)));
    } catch (error) {
      sendUpstreamError(res, error, 'tg_unavailable');
    }
  });

  // ---- /pub/wa/* ------------------------------------------------------------------------------------------------
  const waStart = async (req: Request, res: Response) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const token = await deps.providerTokens.ensure(tenant);
    const webhookUrl = `${deps.appBaseUrl}/webhook?token=${encodeURIComponent(token)}`;
    try {
      const s = await adapters.whatsapp.session.start(tenant, { webhookUrl });
      res.json({
        ok: true,
        tenant,
        state: s.state,
        ready: s.ready,
        qr: s.qrAvailable,
        qr_id: s.qrId ?? null,
        qr_url: s.qrAvailable ? `/pub/wa/qr.svg?tenant=${tenant}` : null,
      });
    } catch (error) {
      sendUpstreamError(res, error, 'wa_unavailable');
    }
  };
  r.get('/pub/wa/start', waStart);
  r.post('/pub/wa/start', waStart);
  r.get('/pub/wa/status', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    try {
      const s = await adapters.whatsapp.session.status(tenant);
      const cached = s.ready ? undefined : await deps.qrCache.get(tenant);
      const qrId = s.qrId ?? cached?.qrId;
      const qr = !s.ready && (s.qrAvailable || cached !== undefined);
      res.json({
        ok: true,
        tenant,
        state: s.state,
        ready: s.ready,
        qr,
        qr_id: qrId ?? null,
        qr_url: qr ? `/pub/wa/qr.svg?tenant=${tenant}` : null,
      });
    } catch (error) {
      sendUpstreamError(res, error, 'wa_unavailable');
    }
  });
  r.get('/pub/wa/qr.svg', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const qrId = str(req.query.qr_id) || undefined;
    res.setHeader('Cache-Control', 'no-store');
    // The seed: serve the cached code from the `qr` webhook; fall back to asking the worker.
    const cached = await deps.qrCache.get(tenant, qrId);
    if (cached !== undefined) {
      res.type('image/svg+xml').send(cached.svg);
      return;
    }
    try {
      const image = await adapters.whatsapp.session.qr(tenant);
      res.type('image/svg+xml').send(Buffer.from(image.body));
    } catch (error) {
      sendUpstreamError(res, error, 'wa_unavailable');
    }
  });

  // ---- /pub/settings, /pub/catalog -------------------------------------------------------------------------------
  r.get('/pub/settings/get', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const settings = await store.getSettings(tenant);
    const integrations =
      settings.integrations && typeof settings.integrations === 'object' ? settings.integrations : {};
    res.json({ ok: true, cfg: { ...settings, tenant, integrations } });
  });

  r.post('/pub/catalog/upload', async (req, res) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) {
      req.resume();
      return;
    }
    const out = await deps.catalog.upload(req, tenant);
    if (out.status !== 200) res.setHeader('Connection', 'close');
    res.status(out.status).json(out.body);
  });

  const jobStatus = async (req: Request, res: Response) => {
    const tenant = await publicTenant(req, res);
    if (tenant === undefined) return;
    const id = str(req.params.jobId) ?? str(req.query.job_id);
    const job = id ? await store.getJob(id) : undefined;
    if (!job || job.tenant !== tenant) {
      res.status(404).json({ ok: false, error: 'job_not_found' });
      return;
    }
    res.json({
      ok: true,
      job_id: job.id,
      tenant,
      state: job.state,
      error: job.error,
      error_message: job.info.error_message ?? null,
      created_at: job.createdAt,
      updated_at: job.updatedAt,
      original: job.info.original ?? null,
      type: job.info.type ?? null,
      size: job.info.size ?? null,
      csv_path: job.info.csv_path ?? null,
      pipeline: job.info.pipeline ?? null,
      rows: (job.info.index as { rows?: number } | undefined)?.rows ?? null,
    });
  };
  r.get('/pub/catalog/jobs/:jobId', jobStatus);
  r.get('/pub/catalog/status', jobStatus);

  // ---- admin ----------------------------------------------------------------------------------------------------
  r.get('/admin/key/get', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.query.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    const key = await getOrCreateTenantKey(deps.tenantKeys, tenant);
    res.json({ ok: true, tenant, key, primary: true, connect_url: connectLink(deps.appBaseUrl, tenant, key) });
  });
  const createKey = async (req: Request, res: Response) => {
    if (!requireAdmin(req, res)) return;
    const b = bodyOf(req);
    const tenant = tenantFrom(b.tenant ?? req.query.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    const given = b.key;
    if (given !== undefined && (typeof given !== 'string' || !/^[\w-]{16,128}$/.test(given))) {
      res.status(422).json({ ok: false, error: 'invalid_payload', reason: 'invalid_key_format' });
      return;
    }
    try {
      const key = await getOrCreateNew(deps.tenantKeys, tenant, given);
      res.status(201).json({ ok: true, tenant, key, primary: true });
    } catch (error) {
      if (!(error instanceof KeyAlreadyExistsError)) throw error;
      res.status(409).json({ ok: false, error: 'key_already_exists' });
    }
  };
  r.post('/admin/key/create', createKey);
  r.post('/admin/key/save', createKey);
  r.delete('/admin/key/:tenant', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.params.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    res.json({ ok: true, tenant, deleted: await deps.tenantKeys.delete(tenant) });
  });
  r.get('/admin/provider-token/:tenant', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.params.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    res.json({ ok: true, tenant, provider_token: await deps.providerTokens.ensure(tenant) });
  });
  r.get('/admin/keys/list', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.query.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    res.json({
      ok: true,
      tenant,
      key: (await deps.tenantKeys.get(tenant)) ?? null,
      provider_token: (await deps.providerTokens.get(tenant)) ?? null,
    });
  });
  r.get('/admin/messenger/events', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.query.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    const limit = Math.min(500, Math.max(1, Number(str(req.query.limit) ?? 100) || 100));
    const events = await store.listEvents(tenant, limit);
    res.json({ ok: true, tenant, inbox_length: await deps.inbox.length(), events });
  });
  r.post('/admin/avito/:tenant/connect', async (req, res) => {
    if (!requireAdmin(req, res)) return;
    const tenant = tenantFrom(req.params.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    if (!deps.avitoConfigured) {
      res.status(503).json({ ok: false, error: 'avito_not_configured' });
      return;
    }
    const b = bodyOf(req);
    if (typeof b.code !== 'string' || b.code === '') {
      res.status(422).json({ ok: false, error: 'invalid_payload', reason: 'missing_code' });
      return;
    }
    try {
      const { accountId } = await connectAvito(
        deps,
        tenant,
        b.code,
        typeof b.redirect_uri === 'string' ? b.redirect_uri : undefined,
      );
      res.json({ ok: true, tenant, account_id: accountId, subscribed: true });
    } catch (error) {
      if (!(error instanceof AdapterError)) throw error;
      res.status(502).json({ ok: false, error: error.code });
    }
  });

  // ---- internal (waweb) ------------------------------------------------------------------------------------------
  r.post('/internal/tenant/:tenant/ensure', async (req, res) => {
    const token = str(req.headers['x-auth-token']) ?? str(req.query.token);
    if (token === undefined || !safeEqual(token, deps.internalToken)) {
      res.status(401).json({ ok: false, error: 'unauthorized' });
      return;
    }
    const tenant = tenantFrom(req.params.tenant);
    if (tenant === undefined) return void invalidTenant(res);
    res.json({ ok: true, tenant, provider_token: await deps.providerTokens.ensure(tenant) });
  });

  return r;
}

/** Creates the tenant's key (given or generated); a second one is the seed's 409 key_already_exists. */
async function getOrCreateNew(store: SqlTenantKeyStore, tenant: number, given: string | undefined): Promise<string> {
  const key = given ?? generateTenantKey();
  await store.create(tenant, key);
  return key;
}
