import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { unstorableInput, unstorableRefusals } from '../input-guard.js';
import { type Metrics, requestCounter } from '../metrics.js';
import type { IntakeAnswer, PbxIntake } from './pbx-intake.js';

/** Paths of the PBX event intake (the original system's path and the one under `/retailcrm`). */
export const PBX_EVENT_PATHS: ReadonlySet<string> = new Set(['/api/events', '/retailcrm/api/events']);

export interface HotIntakeOptions {
  intake: PbxIntake;
  metrics: Metrics;
  /** Largest body served here; bigger ones (and their 413) go through Express with the configured limit. */
  maxBodyBytes: number;
  /** Headers every answer carries (the security headers the general stack would add), computed once. */
  headers: OutgoingHttpHeaders;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The PBX event route served in front of Express: one JSON parse, the token from the config cache, the durable
 * enqueue, precomputed headers and pre-bound metric children. Returns `false` (nothing consumed) for anything it
 * does not serve identically to the Express route: other paths or methods, non-JSON or compressed bodies, bodies
 * of unknown or large length; Express then serves them with the same intake.
 */
export function createHotIntake(options: HotIntakeOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { intake, metrics, maxBodyBytes } = options;
  const baseHeaders = { ...options.headers, 'content-type': 'application/json; charset=utf-8' };
  const counters = new Map([...PBX_EVENT_PATHS].map((p) => [p, requestCounter(metrics, 'POST', p)] as const));
  const durations = new Map(
    [...PBX_EVENT_PATHS].map((p) => [p, metrics.httpDuration.labels({ method: 'POST', route: p })] as const),
  );

  const send = (res: ServerResponse, path: string, started: bigint, answer: IntakeAnswer) => {
    const payload = JSON.stringify(answer.body);
    const headers: OutgoingHttpHeaders = { ...baseHeaders, 'content-length': Buffer.byteLength(payload) };
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    res.writeHead(answer.status, headers);
    res.end(payload);
    counters.get(path)?.(answer.status).inc();
    durations.get(path)?.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const q = (req.url ?? '').indexOf('?');
    const path = q >= 0 ? (req.url as string).slice(0, q) : (req.url ?? '');
    // A query with a NUL goes to Express, whose guard answers it.
    if (!PBX_EVENT_PATHS.has(path) || path.length !== (req.url ?? '').length) return false;
    const type = req.headers['content-type'];
    const length = Number(req.headers['content-length']);
    if (!type || !JSON_TYPE.test(type) || req.headers['content-encoding'] || req.headers['transfer-encoding'])
      return false;
    if (!Number.isInteger(length) || length <= 0 || length > maxBodyBytes) return false;

    const started = process.hrtime.bigint();
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (received <= length) chunks.push(c);
    });
    req.on('end', () => {
      if (received !== length) {
        send(res, path, started, {
          status: 400,
          body: { ok: false, error: 'invalid_body_size', message: 'request size did not match content-length' },
        });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(
          chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        );
      } catch {
        send(res, path, started, {
          status: 400,
          body: { ok: false, error: 'invalid_json', message: 'request body is not valid JSON' },
        });
        return;
      }
      // The same guard as the general stack: a NUL or absurd nesting is a 400, not a database error.
      const unstorable = unstorableInput(body);
      if (unstorable) {
        send(res, path, started, {
          status: 400,
          body: { ok: false, error: unstorable, message: unstorableRefusals[unstorable] },
        });
        return;
      }
      intake.accept(req, body).then(
        (answer) => send(res, path, started, answer),
        () =>
          // accept() answers every expected failure itself; anything else is a bug, still never a crash.
          send(res, path, started, {
            status: 500,
            body: { ok: false, error: 'internal_error', message: 'internal server error' },
          }),
      );
    });
    req.on('error', () => res.destroy());
    return true;
  };
}

/** The headers a middleware (helmet) sets on every answer, captured once from a stub response. */
export function captureHeaders(
  middleware: (req: unknown, res: unknown, next: () => void) => void,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const stub = {
    setHeader: (k: string, v: string | number | string[]) => {
      headers[k.toLowerCase()] = v;
    },
    removeHeader: (k: string) => {
      delete headers[k.toLowerCase()];
    },
    getHeader: (k: string) => headers[k.toLowerCase()],
  };
  middleware({ headers: {}, method: 'POST', url: '/' }, stub, () => undefined);
  return headers;
}
