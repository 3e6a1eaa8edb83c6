import { type Request, Router } from 'express';
import { z } from 'zod';
import { HttpError, unauthorized } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Storage } from '../storage/types.js';
import type { Telephony } from '../telephony.js';
import { matchesStoredToken } from '../token-digest.js';

const tokenValue = z.union([z.string(), z.number()]).transform(String).optional().nullable();

const envelopeHead = z.looseObject({
  enterprise_number: z.union([z.string(), z.number()]).transform(String),
  payload: z.looseObject({ Token: tokenValue }).optional(),
  Token: tokenValue,
});

const smartRedirectBody = z.object({
  enterprise_number: z.union([z.string(), z.number()]).transform(String),
  phone: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(3)),
  channel: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  Token: tokenValue,
});

/**
 * The PBX token, from the first place that has one: `X-PBX-Token`, `Authorization: Bearer`, a `Token` header (the
 * original's dialplans), the body `Token`, the payload `Token`.
 */
function pbxCredential(req: Request, ...fromBody: Array<string | null | undefined>): string | undefined {
  const header = req.headers['x-pbx-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1];
  }
  const plain = req.headers.token;
  if (typeof plain === 'string' && plain) return plain;
  return fromBody.find((value) => typeof value === 'string' && value !== '') ?? undefined;
}

/**
 * PBX-facing routes, authenticated by the enterprise's PBX token (constant-time compare). Mounted at `/api` and at
 * the original's `/retailcrm/api`, so a PBX configured for the original needs no proxy rule.
 */
export function createPbxRouter(deps: { storage: Storage; telephony: Telephony; metrics: Metrics }): Router {
  const r = Router();

  const authorize = async (enterpriseNumber: string, token: string | undefined) => {
    const e = await deps.storage.getEnterprise(enterpriseNumber);
    // Same answer for unknown enterprise and wrong token: nothing to enumerate.
    if (!token || !e?.pbxToken || !matchesStoredToken(token, e.pbxToken) || !e.active) {
      deps.metrics.authFailures.inc({ reason: 'pbx_token' });
      throw unauthorized('invalid PBX token');
    }
  };

  r.post('/events', async (req, res) => {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new HttpError(400, 'invalid_body', 'send a JSON object {enterprise_number, event_type, payload}');
    }
    const head = envelopeHead.parse(req.body);
    await authorize(head.enterprise_number, pbxCredential(req, head.Token, head.payload?.Token));
    const result = await deps.telephony.pipeline.handle(req.body);
    if (!result.ok) {
      if (result.error === 'invalid_event') {
        throw new HttpError(
          422,
          'invalid_event',
          'event does not match the schema',
          result.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        );
      }
      throw new HttpError(503, result.error, result.message);
    }
    // Accepted: delivery to the CRMs continues in the background.
    res.status(202).json(result);
  });

  r.post('/smart-redirect', async (req, res) => {
    const b = smartRedirectBody.parse(req.body ?? {});
    await authorize(b.enterprise_number, pbxCredential(req, b.Token));
    if (b.channel) {
      const outcome = await deps.telephony.smartRedirect.redirectCall({
        enterprise: b.enterprise_number,
        phone: b.phone,
        channel: b.channel,
        context: b.context,
      });
      res.json({ ok: true, ...outcome });
      return;
    }
    const found = await deps.telephony.smartRedirect.resolveResponsibleExtension({
      enterprise: b.enterprise_number,
      phone: b.phone,
    });
    if (found.extension !== undefined) {
      res.json({ ok: true, extension: found.extension, manager_id: found.managerId, source: found.source });
    } else {
      // No manager or over budget: the PBX keeps the call on its default route.
      res.json({ ok: true, extension: null, reason: found.reason, source: found.source });
    }
  });
  return r;
}
