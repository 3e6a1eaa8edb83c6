import { type Channel, ChannelSchema, TenantSchema, verifyTenantKey } from '@callbridge/messenger-contract';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { credentialFromHeaders, safeEqual } from '../auth.js';
import { type AutoReplier, autoReplyEnabled } from './auto-reply.js';
import type { ContactStore } from './contacts.js';
import { type PersonaStore, personaValuesOf, renderPersona } from './persona.js';
import type { MessengerStore, SqlTenantKeyStore } from './store.js';

export interface TenantAdminDeps {
  adminToken: string;
  tenantKeys: SqlTenantKeyStore;
  contacts: ContactStore;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? str(v[0]) : undefined);

/** A positive integer id from a path or query value, else undefined. */
export function idFrom(raw: unknown): number | undefined {
  const text = str(raw);
  return text !== undefined && /^[1-9]\d{0,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * Access to one tenant's hub data: the operator (admin token as `X-Admin-Token` or bearer) for any tenant, or the
 * tenant's own key (`X-Tenant-Key` header or `?k=`) for that tenant only. Answers 422 invalid_tenant / 401
 * unauthorized and returns undefined when refused.
 */
export function tenantAccess(deps: Pick<TenantAdminDeps, 'adminToken' | 'tenantKeys'>) {
  return async (req: Request, res: Response): Promise<number | undefined> => {
    const parsed = TenantSchema.safeParse(str(req.params.tenant) ?? str(req.query.tenant));
    const credential = credentialFromHeaders(req.headers);
    const admin = credential !== undefined && safeEqual(credential, deps.adminToken);
    if (!admin) {
      const key = str(req.headers['x-tenant-key']) ?? str(req.query.k);
      if (!parsed.success || !(await verifyTenantKey(deps.tenantKeys, parsed.data, key))) {
        res.status(401).json({ ok: false, error: 'unauthorized' });
        return undefined;
      }
    }
    if (!parsed.success) {
      res.status(422).json({ ok: false, error: 'invalid_payload', reason: 'invalid_tenant' });
      return undefined;
    }
    return parsed.data;
  };
}

/** `/admin/contacts*` and `/admin/leads/*`: the tenant's contacts, their leads and conversations. */
export function createContactsRouter(deps: TenantAdminDeps): Router {
  const r = Router();
  const tenantOf = tenantAccess(deps);
  const notFound = (res: Response, extra: Record<string, unknown> = {}) =>
    res.status(404).json({ ok: false, error: 'contact_not_found', ...extra });

  r.get('/admin/contacts', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    const limit = Math.min(200, Math.max(1, Number(str(req.query.limit) ?? 50) || 50));
    const before = idFrom(req.query.before);
    const contacts = await deps.contacts.list(tenant, { limit, before });
    const last = contacts.at(-1);
    res.json({
      ok: true,
      tenant,
      contacts,
      next_before: contacts.length === limit && last !== undefined ? last.id : null,
    });
  });

  r.get('/admin/contacts/:id', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    const id = idFrom(req.params.id);
    if (id === undefined) return void notFound(res);
    const contact = await deps.contacts.get(tenant, id);
    if (contact !== undefined) return void res.json({ ok: true, tenant, contact });
    // A contact merged into another answers where it went (same tenant only).
    const live = await deps.contacts.resolveMerged(tenant, id);
    notFound(res, live !== undefined && live !== id ? { merged_into: live } : {});
  });

  r.get('/admin/leads/:id/messages', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    const id = idFrom(req.params.id);
    const limit = Math.min(500, Math.max(1, Number(str(req.query.limit) ?? 100) || 100));
    const lead = id === undefined ? undefined : await deps.contacts.getLead(tenant, id);
    if (lead === undefined || id === undefined) {
      res.status(404).json({ ok: false, error: 'lead_not_found' });
      return;
    }
    res.json({ ok: true, tenant, lead, messages: await deps.contacts.recentMessages(tenant, id, limit) });
  });

  return r;
}

const text = (max: number) => z.string().trim().max(max);
const link = z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000)]);
const personaBodySchema = z.strictObject({
  /** null: back to the default persona. */
  template: z.union([z.string().trim().min(1).max(20_000), z.null()]).optional(),
  passport: z
    .strictObject({ agent_name: text(200).optional(), brand: text(200).optional(), city: text(200).optional() })
    .optional(),
  whatsapp_link: z.union([link, z.null()]).optional(),
  catalog_url: z.union([link, z.null()]).optional(),
});
const autoReplyBodySchema = z.strictObject({ enabled: z.boolean() });

const invalid = (res: Response, error: z.ZodError) =>
  res.status(422).json({
    ok: false,
    error: 'invalid_payload',
    issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });

/** `/admin/persona/{tenant}` (default + override, brand passport, links) and `/admin/auto-reply/{tenant}`. */
export function createTenantSettingsRouter(
  deps: Pick<TenantAdminDeps, 'adminToken' | 'tenantKeys'> & {
    store: MessengerStore;
    personas: PersonaStore;
    autoReply: AutoReplier;
  },
): Router {
  const r = Router();
  const tenantOf = tenantAccess(deps);

  const personaBody = async (tenant: number, channel: Channel | undefined) => {
    const [{ template, source }, settings] = await Promise.all([
      deps.personas.effective(tenant),
      deps.store.getSettings(tenant),
    ]);
    const values = personaValuesOf(settings);
    return {
      ok: true,
      tenant,
      source,
      template,
      passport: { agent_name: values.agent_name ?? null, brand: values.brand ?? null, city: values.city ?? null },
      whatsapp_link: values.whatsapp_link ?? null,
      catalog_url: values.catalog_url ?? null,
      channel: channel ?? null,
      rendered: renderPersona(template, values, channel),
    };
  };
  const channelOf = (req: Request) => {
    const parsed = ChannelSchema.safeParse(str(req.query.channel));
    return parsed.success ? parsed.data : undefined;
  };

  r.get('/admin/persona/:tenant', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    res.json(await personaBody(tenant, channelOf(req)));
  });

  r.put('/admin/persona/:tenant', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    const parsed = personaBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) return void invalid(res, parsed.error);
    const b = parsed.data;
    if (b.template === null) await deps.personas.reset(tenant);
    else if (b.template !== undefined) await deps.personas.set(tenant, b.template);
    if (b.passport !== undefined) await deps.store.patchSettings(tenant, 'passport', b.passport);
    const links: Record<string, unknown> = {};
    if (b.whatsapp_link !== undefined) links.whatsapp_link = b.whatsapp_link || null;
    if (b.catalog_url !== undefined) links.catalog_url = b.catalog_url || null;
    if (Object.keys(links).length > 0) await deps.store.setSettings(tenant, links);
    res.json(await personaBody(tenant, channelOf(req)));
  });

  const autoReplyBody = async (tenant: number) => ({
    ok: true,
    tenant,
    enabled: autoReplyEnabled(await deps.store.getSettings(tenant)),
    configured: deps.autoReply.configured,
  });
  r.get('/admin/auto-reply/:tenant', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    res.json(await autoReplyBody(tenant));
  });
  r.put('/admin/auto-reply/:tenant', async (req, res) => {
    const tenant = await tenantOf(req, res);
    if (tenant === undefined) return;
    const parsed = autoReplyBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) return void invalid(res, parsed.error);
    const { enabled } = parsed.data;
    await deps.store.patchSettings(tenant, 'behavior', { auto_reply: enabled, auto_reply_enabled: enabled });
    res.json(await autoReplyBody(tenant));
  });

  return r;
}
