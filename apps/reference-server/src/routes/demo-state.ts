import { Router } from 'express';
import { type Authenticator, credentialFromHeaders } from '../auth.js';
import { forbidden, unauthorized } from '../errors.js';

/** What the in-process fake RetailCRM of `--demo` holds, as plain JSON. */
export type DemoStateReader = () => Record<string, unknown>;

/**
 * `GET /demo/retailcrm/state` (operator admin token): in `--demo`, exactly what RetailCRM would have received —
 * call events, uploaded calls, tasks, the integration module, users. Absent outside the demo.
 */
export function createDemoStateRouter(deps: { auth: Authenticator; read: DemoStateReader }): Router {
  const r = Router();
  r.get('/demo/retailcrm/state', async (req, res) => {
    const credential = credentialFromHeaders(req.headers);
    if (!credential) throw unauthorized('send the ADMIN_TOKEN as Authorization: Bearer');
    const principal = await deps.auth.authenticate(credential);
    if (!principal) throw unauthorized('invalid token');
    if (principal.kind !== 'admin') throw forbidden('operator (admin token) access required');
    res.json({ ok: true, ...deps.read() });
  });
  return r;
}
