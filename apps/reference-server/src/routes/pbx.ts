import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Telephony } from '../telephony.js';
import { type IntakeAnswer, type PbxIntake, pbxCredential } from './pbx-intake.js';

const tokenValue = z.union([z.string(), z.number()]).transform(String).optional().nullable();

const smartRedirectBody = z.object({
  enterprise_number: z.union([z.string(), z.number()]).transform(String),
  phone: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(3)),
  channel: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  Token: tokenValue,
});

/** Sends an intake answer (also used for its refusals, so both routes answer alike). */
export function sendIntakeAnswer(res: Response, answer: IntakeAnswer): void {
  if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
  res.status(answer.status).json(answer.body);
}

/** `POST /api/events` (and its `/retailcrm/api/events` alias) through Express. */
export const pbxEventsRoute = (intake: PbxIntake) => async (req: Request, res: Response) => {
  sendIntakeAnswer(res, await intake.accept(req, req.body));
};

/**
 * PBX-facing routes, authenticated by the enterprise's PBX token (constant-time compare, token from the config
 * cache). `POST /events` is normally answered by the hot path in front of Express (`hot-intake.ts`); this route
 * serves what the hot path passes on (other content types, compressed bodies) with the same intake.
 */
export function createPbxRouter(deps: { telephony: Telephony; intake: PbxIntake }): Router {
  const r = Router();

  r.post('/events', pbxEventsRoute(deps.intake));

  r.post('/smart-redirect', async (req, res) => {
    const b = smartRedirectBody.parse(req.body ?? {});
    const denied = await deps.intake.authorize(b.enterprise_number, pbxCredential(req, req.body));
    if (denied) {
      sendIntakeAnswer(res, denied);
      return;
    }
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
