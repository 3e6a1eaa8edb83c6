import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Metrics } from '../metrics.js';
import type { Telephony } from '../telephony.js';
import { matchesStoredToken } from '../token-digest.js';

/** What the PBX routes need to know about an enterprise (served from a config cache, not the database). */
export interface PbxAuth {
  pbxToken: string | null;
  active: boolean;
}

/** Enterprise number -> its PBX credential; `undefined` for an unknown enterprise; throws when storage is down. */
export type PbxAuthLookup = (enterpriseNumber: string) => Promise<PbxAuth | undefined>;

/** The answer of the PBX intake, rendered by the Express route and by the hot path alike. */
export interface IntakeAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Seconds, for a 503: when the PBX should try again. */
  retryAfter?: number;
}

/** Storage or queue down: the PBX retries after this many seconds. */
export const RETRY_AFTER_SECONDS = 5;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const asToken = (v: unknown) =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;

/**
 * The PBX credential of a request, from (in this order) `X-PBX-Token`, `Authorization: Bearer`, a `Token` header,
 * the body's `Token` or the event's `payload.Token`. The one place that knows the token sources.
 */
export function pbxCredential(req: { headers: IncomingHttpHeaders }, body: unknown): string | undefined {
  const header = first(req.headers['x-pbx-token']);
  if (header) return header;
  const auth = first(req.headers.authorization);
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1];
  }
  const plain = first(req.headers.token);
  if (plain) return plain;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { Token?: unknown; payload?: { Token?: unknown } | null };
  return asToken(b.Token) ?? (b.payload && typeof b.payload === 'object' ? asToken(b.payload.Token) : undefined);
}

const fail = (status: number, error: string, message: string, extra: Record<string, unknown> = {}): IntakeAnswer => ({
  status,
  body: { ok: false, error, message, ...extra },
  ...(status === 503 ? { retryAfter: RETRY_AFTER_SECONDS } : {}),
});

/**
 * {@link matchesStoredToken} (three SHA-256s) once per stored digest and token: the token that last matched a
 * digest is remembered and later requests compare against it in constant time. A rotated token changes the
 * digest, so the remembered one no longer applies.
 */
function createTokenMatcher(maxEntries = 10_000): (presented: string, stored: string) => boolean {
  const matched = new Map<string, Buffer>();
  return (presented, stored) => {
    const known = matched.get(stored);
    if (known) {
      const p = Buffer.from(presented, 'utf8');
      if (p.length === known.length && timingSafeEqual(p, known)) return true;
    }
    if (!matchesStoredToken(presented, stored)) return false;
    if (matched.size >= maxEntries) matched.clear();
    matched.set(stored, Buffer.from(presented, 'utf8'));
    return true;
  };
}

export interface PbxIntake {
  /** Checks the enterprise's PBX token; an answer to send when it fails, `undefined` when it passes. */
  authorize(enterpriseNumber: string, token: string | undefined): Promise<IntakeAnswer | undefined>;
  /** One PBX event: authorize, validate once, store durably; 202 only once the event is committed. */
  accept(req: { headers: IncomingHttpHeaders }, body: unknown): Promise<IntakeAnswer>;
}

/** The PBX event intake, free of Express: one code path for the Express route and the hot path in front of it. */
export function createPbxIntake(deps: { pbxAuth: PbxAuthLookup; telephony: Telephony; metrics: Metrics }): PbxIntake {
  const authFailures = deps.metrics.authFailures.labels({ reason: 'pbx_token' });
  const tokenMatches = createTokenMatcher();
  const authorize = async (enterpriseNumber: string, token: string | undefined) => {
    let e: PbxAuth | undefined;
    try {
      e = await deps.pbxAuth(enterpriseNumber);
    } catch {
      return fail(503, 'storage_unavailable', 'the enterprise store is unavailable; retry later');
    }
    // Same answer for unknown enterprise and wrong token: nothing to enumerate.
    if (!token || !e?.pbxToken || !e.active || !tokenMatches(token, e.pbxToken)) {
      authFailures.inc();
      return fail(401, 'unauthorized', 'invalid PBX token');
    }
    return undefined;
  };
  return {
    authorize,
    async accept(req, body) {
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        return fail(400, 'invalid_body', 'send a JSON object {enterprise_number, event_type, payload}');
      }
      const enterprise = (body as { enterprise_number?: unknown }).enterprise_number;
      if (typeof enterprise !== 'string' && typeof enterprise !== 'number') {
        return fail(422, 'invalid_event', 'enterprise_number is required (string or number)', {
          details: [{ path: 'enterprise_number', message: 'required' }],
        });
      }
      const denied = await authorize(String(enterprise), pbxCredential(req, body));
      if (denied) return denied;
      // The pipeline parses the event (the only schema parse) and commits it before answering.
      const result = await deps.telephony.pipeline.handle(body);
      if (result.ok) return { status: 202, body: result };
      if (result.error === 'invalid_event') {
        return fail(422, 'invalid_event', 'event does not match the schema', {
          details: result.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
      return fail(503, result.error, `${result.message}; the event was not stored, retry later`);
    },
  };
}
