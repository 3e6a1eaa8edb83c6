import { randomBytes, randomUUID } from 'node:crypto';
import { createUser, type DeviceRecord } from '@callbridge/phone-protocol';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type Authenticator, credentialFromHeaders } from '../auth.js';
import { forbidden, HttpError, notFound, unauthorized } from '../errors.js';
import { enterpriseNumberSchema, storedConfigSchema } from '../retailcrm/config-schema.js';
import { INTEGRATION } from '../retailcrm/service.js';
import type { Storage } from '../storage/types.js';
import type { PhoneModule } from './module.js';
import type { PhoneAccount } from './stores.js';

const extensionSchema = z.string().regex(/^\d{2,5}$/, 'extension must be 2-5 digits');
const idSchema = z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(32));
const flag = z
  .union([z.boolean(), z.enum(['on', 'true', '1', 'yes', 'off', 'false', '0', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['on', 'true', '1', 'yes'].includes(v)));

export const phoneUserBodySchema = z.looseObject({
  username: z.string().regex(/^[\w.@+-]{1,150}$/, 'username: letters, digits and @.+-_ (Django rules)'),
  /** Omitted on create: a random one is generated and returned once. Omitted on update: unchanged. */
  password: z.string().min(8).max(128).optional(),
  extension: extensionSchema.nullable().optional(),
  retailcrm_user_id: idSchema.optional(),
  is_active: flag.optional(),
});

export const qrBodySchema = z
  .looseObject({
    username: z.string().min(1).optional(),
    extension: extensionSchema.optional(),
    retailcrm_user_id: idSchema.optional(),
  })
  .refine((b) => b.username ?? b.extension ?? b.retailcrm_user_id, 'give username, extension or retailcrm_user_id');

const body = (req: Request): unknown => (req.body && typeof req.body === 'object' ? req.body : {});

/**
 * Operator routes for phone accounts (mounted at `/api/phone-admin`): create/update a manager's phone user bound
 * to an extension, list them with their devices, and issue one-time QR login tokens. Admin token, or the
 * enterprise's own account link.
 */
export function createPhoneAdminRouter(deps: { auth: Authenticator; storage: Storage; phone: PhoneModule }): Router {
  const { auth, storage, phone } = deps;
  const r = Router();

  r.use(async (req: Request, _res: Response, next: NextFunction) => {
    const credential = credentialFromHeaders(req.headers);
    if (!credential) throw unauthorized();
    const principal = await auth.authenticate(credential);
    if (!principal) throw unauthorized('invalid, expired or revoked token');
    const number = enterpriseNumberSchema.safeParse(req.path.split('/')[2]);
    if (principal.kind === 'enterprise' && (!number.success || number.data !== principal.enterpriseNumber)) {
      throw forbidden();
    }
    next();
  });

  const enterprise = async (req: Request) => {
    const parsed = enterpriseNumberSchema.safeParse(req.params.enterpriseNumber);
    if (!parsed.success) throw new HttpError(400, 'invalid_enterprise_number', 'invalid enterprise_number');
    const e = await storage.getEnterprise(parsed.data);
    if (!e) throw notFound(`enterprise ${parsed.data}`);
    return { e, cfg: storedConfigSchema.parse(e.integrationsConfig[INTEGRATION] ?? {}) };
  };

  const knownExtension = async (enterpriseNumber: string, extension: string) => {
    const phones = await storage.listInternalPhones(enterpriseNumber);
    if (!phones.some((p) => p.phoneNumber === extension)) {
      throw new HttpError(
        422,
        'unknown_extension',
        `extension ${extension} is not an internal phone of enterprise ${enterpriseNumber}`,
      );
    }
  };

  const managerExtension = (userExtensions: Record<string, string | null>, retailcrmUserId: string) => {
    const ext = userExtensions[retailcrmUserId];
    if (!ext) throw new HttpError(422, 'no_extension', `manager ${retailcrmUserId} has no extension assigned`);
    return ext;
  };

  const view = (u: PhoneAccount, devices: DeviceRecord[]) => {
    const now = phone.clock.now();
    return {
      id: u.id,
      username: u.username,
      enterprise_number: u.enterpriseNumber,
      extension: u.extension,
      is_active: u.isActive,
      devices: devices.map((d) => ({
        device_id: d.deviceId,
        device_name: d.deviceName ?? null,
        app_version: d.appVersion ?? null,
        last_seen_at: new Date(d.lastSeenAt).toISOString(),
        last_heartbeat_at: d.lastHeartbeatAt ? new Date(d.lastHeartbeatAt).toISOString() : null,
        online: now - d.lastSeenAt <= phone.onlineWindowMs,
        queue_stuck: d.queueStuck,
      })),
    };
  };

  r.get('/users/:enterpriseNumber', async (req, res) => {
    const { e } = await enterprise(req);
    const users = await phone.users.listByEnterprise(e.number);
    const out = [];
    for (const u of users) out.push(view(u, await phone.devices.listByUser(u.id)));
    res.json({ ok: true, users: out });
  });

  r.post('/users/:enterpriseNumber', async (req, res) => {
    const { e, cfg } = await enterprise(req);
    const b = phoneUserBodySchema.parse(body(req));
    let extension = b.extension;
    if (extension === undefined && b.retailcrm_user_id !== undefined) {
      extension = managerExtension(cfg.user_extensions, b.retailcrm_user_id);
    }
    if (extension) await knownExtension(e.number, extension);
    const existing = await phone.users.findByUsername(b.username);
    if (existing && existing.enterpriseNumber !== null && existing.enterpriseNumber !== e.number) {
      throw new HttpError(409, 'username_taken', 'this username belongs to another enterprise');
    }
    let generated: string | undefined;
    if (!existing || b.password !== undefined) {
      generated = b.password === undefined ? randomBytes(12).toString('base64url') : undefined;
      await createUser(phone.users, {
        id: existing?.id ?? randomUUID(),
        username: b.username,
        password: b.password ?? (generated as string),
        isActive: b.is_active ?? existing?.isActive ?? true,
      });
    } else if (b.is_active !== undefined) {
      await phone.users.save({ ...existing, isActive: b.is_active });
    }
    const saved = (await phone.users.findByUsername(b.username)) as PhoneAccount;
    await phone.users.assign(saved.id, e.number, extension === undefined ? saved.extension : extension);
    const user = (await phone.users.findById(saved.id)) as PhoneAccount;
    res.status(existing ? 200 : 201).json({
      ok: true,
      user: view(user, await phone.devices.listByUser(user.id)),
      // Shown once; only the scrypt hash is stored.
      ...(generated ? { password: generated } : {}),
    });
  });

  // A device stays with its (enterprise, user) until released here; then another user may register it.
  r.delete('/devices/:enterpriseNumber/:deviceId', async (req, res) => {
    const { e } = await enterprise(req);
    const deviceId = String(req.params.deviceId);
    const device = await phone.devices.get(deviceId);
    // Another enterprise's device is "not found": its existence is not this enterprise's business.
    if (!device || device.tenant !== e.number) throw notFound('device');
    await phone.devices.release(deviceId);
    res.json({ ok: true, released: { device_id: device.deviceId, user_id: device.userId } });
  });

  r.post('/qr/:enterpriseNumber', async (req, res) => {
    const { e, cfg } = await enterprise(req);
    const b = qrBodySchema.parse(body(req));
    let user: PhoneAccount | undefined;
    if (b.username) {
      user = await phone.users.findByUsername(b.username);
      if (user && user.enterpriseNumber !== e.number) user = undefined;
    } else {
      const extension = b.extension ?? managerExtension(cfg.user_extensions, b.retailcrm_user_id as string);
      await knownExtension(e.number, extension);
      user = await phone.users.findByExtension(e.number, extension);
      if (!user) {
        // First QR for this manager: the account is created on the spot, its password never leaves the server.
        const created = await createUser(phone.users, {
          id: randomUUID(),
          username: `ext${extension}.${e.number}`,
          password: randomBytes(24).toString('base64url'),
        });
        await phone.users.assign(created.id, e.number, extension);
        user = await phone.users.findById(created.id);
      }
    }
    if (!user) throw notFound('phone user');
    if (!user.isActive) throw new HttpError(409, 'user_inactive', 'the phone user is deactivated');
    const qr = await phone.protocol.createQrToken(user.id);
    res.json({
      ok: true,
      username: user.username,
      extension: user.extension,
      token: qr.token,
      expires_at: new Date(qr.expiresAt).toISOString(),
    });
  });

  return r;
}
