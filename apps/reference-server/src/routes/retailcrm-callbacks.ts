import { type Request, Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { IntegrationLogWriter } from '../egress/integration-log.js';
import { HttpError } from '../errors.js';
import { dialViaPhone } from '../phone/click-to-call.js';
import type { PhoneDialer } from '../phone/module.js';
import { CALLBACK_SECRET_PARAM, verifyCallbackSecret } from '../retailcrm/callback-secret.js';
import { storedConfigSchema } from '../retailcrm/config-schema.js';
import { INTEGRATION } from '../retailcrm/service.js';
import type { SecretBox } from '../secret-box.js';
import type { Storage } from '../storage/types.js';

/** Places a click-to-call: rings the manager's extension, then dials the customer. */
export interface CallOriginator {
  originate(params: { enterpriseNumber: string; extension: string; phone: string }): Promise<void>;
}

const str = z.union([z.string(), z.number()]).transform(String);
const makeCallSchema = z.looseObject({
  clientId: str.pipe(z.string().min(1)),
  phone: str.pipe(z.string().regex(/^\+?[\d\s()-]{3,32}$/, 'phone must be a phone number')),
  userId: str.optional(),
  code: str.optional(),
  externalPhone: str.optional(),
});
/** The single 401 code of a refused callback (unknown client, missing, wrong or never-set secret alike). */
export const CALLBACK_REFUSED = 'callback_unauthorized';

/** Authentication comes first: an unauthenticated caller learns nothing from validation errors. */
const clientSchema = z.looseObject({ clientId: str.pipe(z.string().min(1)) });
const statusSchema = z.looseObject({
  clientId: str.pipe(z.string().min(1)),
  userId: str.optional(),
  code: str.optional(),
  status: z.enum(['free', 'busy', 'dinner', 'break']),
});

/** RetailCRM's method/encoding is undocumented: accept GET query and POST form/JSON alike. */
const params = (req: Request): unknown => ({
  ...(req.query as object),
  ...(req.body && typeof req.body === 'object' ? req.body : {}),
});

/**
 * RetailCRM callbacks (makeCallUrl, changeUserStatusUrl). RetailCRM sends `clientId` (= our enterprise
 * number), which anyone can guess, so the registered URLs also carry the enterprise's callback secret
 * (`?secret=`). An unknown or unregistered clientId, or a missing or wrong secret, is refused with 401.
 */
export function createRetailCrmCallbacksRouter(deps: {
  storage: Storage;
  /** Decrypts the stored callback secrets. */
  secrets: SecretBox;
  /** make-call and status callbacks are logged like every other RetailCRM exchange. */
  integrationLog: IntegrationLogWriter;
  /** Says why a phone dial fell back to AMI, and why a callback was refused. */
  logger: Pick<Logger, 'error' | 'warn'>;
  originator?: CallOriginator;
  /** Click-to-call through the manager's phone app first; AMI Originate when it has no device. */
  phoneDialer?: PhoneDialer;
}): Router {
  const r = Router();

  const authenticated = async (req: Request) => {
    const input = params(req);
    const { clientId } = clientSchema.parse(input);
    const e = await deps.storage.getEnterprise(clientId);
    const cfg = storedConfigSchema.parse(e?.integrationsConfig[INTEGRATION] ?? {});
    try {
      if (!e?.active || !cfg.registered) throw new HttpError(401, 'unknown_client', 'unknown clientId');
      verifyCallbackSecret(cfg, (input as Record<string, unknown>)[CALLBACK_SECRET_PARAM], deps.secrets);
    } catch (err) {
      // One answer for an unknown client and a missing or wrong secret: the caller cannot probe which
      // enterprise numbers exist. The precise reason goes to the log only.
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      deps.logger.warn({ clientId, reason: err.code }, 'RetailCRM callback refused');
      throw new HttpError(401, CALLBACK_REFUSED, 'unknown clientId, or a missing or wrong callback secret');
    }
    return { e, cfg, input };
  };

  const makeCall = async (req: Request, res: import('express').Response) => {
    const { e, cfg, input } = await authenticated(req);
    const p = makeCallSchema.parse(input);
    const extension =
      (p.code && /^\d{2,5}$/.test(p.code) ? p.code : undefined) ??
      (p.userId ? cfg.user_extensions[p.userId] : undefined);
    if (!extension) throw new HttpError(400, 'no_extension', 'the manager has no extension assigned');
    if (deps.phoneDialer) {
      const viaPhone = await dialViaPhone(
        { dialer: deps.phoneDialer, integrationLog: deps.integrationLog, logger: deps.logger },
        {
          enterpriseNumber: e.number,
          extension,
          retailcrmUserId: p.userId,
          userExtensions: cfg.user_extensions,
          phone: p.phone,
        },
      );
      if (viaPhone) return void res.json(viaPhone);
    }
    if (!deps.originator)
      throw new HttpError(503, 'click_to_call_unavailable', 'no PBX connection configured (AMI_HOST)');
    const started = performance.now();
    const logged = { enterpriseNumber: e.number, eventType: 'make_call', operation: 'ami.originate' };
    const data = { extension, phone: p.phone };
    try {
      await deps.originator.originate({ enterpriseNumber: e.number, extension, phone: p.phone });
    } catch (err) {
      await deps.integrationLog.write({
        ...logged,
        data,
        status: 'error',
        errorMessage: err instanceof Error ? err.message : String(err),
        durationMs: performance.now() - started,
      });
      throw new HttpError(502, 'originate_failed', 'the PBX refused the call');
    }
    await deps.integrationLog.write({ ...logged, data, status: 'success', durationMs: performance.now() - started });
    res.json({ ok: true, success: true, extension });
  };
  r.get('/make-call', makeCall);
  r.post('/make-call', makeCall);

  const status = async (req: Request, res: import('express').Response) => {
    const { e, input } = await authenticated(req);
    const p = statusSchema.parse(input);
    await deps.integrationLog.write({
      enterpriseNumber: e.number,
      eventType: 'user_status',
      operation: 'retailcrm.changeUserStatus',
      data: { userId: p.userId ?? null, code: p.code ?? null, status: p.status },
      status: 'success',
    });
    res.json({ ok: true, success: true });
  };
  r.get('/status', status);
  r.post('/status', status);
  return r;
}
