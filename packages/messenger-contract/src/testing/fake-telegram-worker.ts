import { HttpResponse, http, type RequestHandler } from 'msw';
import type { TelegramLoginState } from '../adapters/telegram-worker.js';
import { bodyOf, type Fault, FaultQueue, type RecordedCall } from './faults.js';

/** Base URL the fake intercepts by default. */
export const FAKE_TGWORKER_URL = 'http://tgworker.test:9000';
/** X-Admin-Token the fake accepts by default (a test value, not a secret). */
export const FAKE_ADMIN_TOKEN = 'fake-admin-token-0000';

/** Options of createFakeTelegramWorker. */
export interface FakeTelegramWorkerOptions {
  /** Base URL the handlers intercept (default FAKE_TGWORKER_URL). */
  baseUrl?: string;
  /** X-Admin-Token the fake requires (default FAKE_ADMIN_TOKEN). */
  adminToken?: string;
  /** 2FA password accepted by POST /auth/2fa. */
  password?: string;
  /** Targets that answer `{ok:false,error:"peer_not_found"}`. */
  unknownPeers?: (string | number)[];
}

interface LoginSession {
  state: TelegramLoginState;
  qrId?: string;
}

/** msw fake of tgworker: /send and the QR login RPC (need_qr -> need_2fa -> authorized | failed). */
export interface FakeTelegramWorker {
  /** Base URL the handlers intercept. */
  baseUrl: string;
  /** X-Admin-Token the fake requires. */
  adminToken: string;
  /** msw handlers to install (`setupServer(...fake.handlers)` or `server.use`). */
  handlers: RequestHandler[];
  /** Messages accepted by /send. */
  sent: Record<string, unknown>[];
  /** Every request (no secrets). */
  calls: RecordedCall[];
  /** Scripts an upstream failure for the next matching calls. */
  fail(fault: Fault): void;
  /** Simulates the user scanning the QR; with 2FA the session waits for the password. */
  scan(tenant: number, withTwoFactor?: boolean): void;
  /** Simulates QR expiry. */
  expire(tenant: number): void;
  /** The tenant's login state (a new tenant starts at need_qr). */
  state(tenant: number): TelegramLoginState;
}

/** Creates a fresh FakeTelegramWorker; install its `handlers` in an msw server. */
export function createFakeTelegramWorker(options: FakeTelegramWorkerOptions = {}): FakeTelegramWorker {
  const baseUrl = options.baseUrl ?? FAKE_TGWORKER_URL;
  const adminToken = options.adminToken ?? FAKE_ADMIN_TOKEN;
  const password = options.password ?? 'fake-2fa-password';
  const unknown = new Set((options.unknownPeers ?? []).map(String));
  const sessions = new Map<number, LoginSession>();
  const faults = new FaultQueue();
  const calls: RecordedCall[] = [];
  const sent: Record<string, unknown>[] = [];
  let qrCounter = 0;
  let messageCounter = 1000;

  const sessionOf = (tenant: number): LoginSession => {
    let s = sessions.get(tenant);
    if (s === undefined) {
      s = { state: 'need_qr' };
      sessions.set(tenant, s);
    }
    return s;
  };
  const statusBody = (s: LoginSession) => ({
    state: s.state,
    authorized: s.state === 'authorized',
    needs_2fa: s.state === 'need_2fa',
    qr_id: s.qrId ?? null,
    qr_url: s.qrId === undefined ? null : `/pub/tg/qr.png?qr_id=${s.qrId}`,
  });

  /** Common prelude: auth, fault injection, recording. */
  async function prelude(request: Request): Promise<{ response?: Response; body: unknown; url: URL }> {
    const url = new URL(request.url);
    const body = await bodyOf(request);
    calls.push({ method: request.method, path: url.pathname, body });
    if (request.headers.get('x-admin-token') !== adminToken) {
      return { response: HttpResponse.json({ detail: 'unauthorized' }, { status: 401 }), body, url };
    }
    const fault = faults.take(url.pathname);
    return fault === undefined ? { body, url } : { response: fault, body, url };
  }

  const tenantOf = (body: unknown, url: URL): number =>
    Number((body as { tenant?: unknown } | undefined)?.tenant ?? url.searchParams.get('tenant'));

  const handlers: RequestHandler[] = [
    http.post(`${baseUrl}/send`, async ({ request }) => {
      const { response, body } = await prelude(request);
      if (response) return response;
      const message = body as Record<string, unknown>;
      if (unknown.has(String(message.to))) return HttpResponse.json({ ok: false, error: 'peer_not_found' });
      sent.push(message);
      return HttpResponse.json({ ok: true, message_id: ++messageCounter });
    }),
    http.post(`${baseUrl}/auth/qr/start`, async ({ request }) => {
      const { response, body, url } = await prelude(request);
      if (response) return response;
      const s = sessionOf(tenantOf(body, url));
      if (s.state === 'authorized')
        return HttpResponse.json({ ok: false, error: 'already_authorized' }, { status: 409 });
      s.state = 'need_qr';
      s.qrId = `qr-${++qrCounter}`;
      return HttpResponse.json({ ...statusBody(s), expires_at: '2030-01-01T00:00:30Z' });
    }),
    http.get(`${baseUrl}/auth/status`, async ({ request }) => {
      const { response, body, url } = await prelude(request);
      if (response) return response;
      return HttpResponse.json(statusBody(sessionOf(tenantOf(body, url))));
    }),
    http.get(`${baseUrl}/auth/qr.png`, async ({ request }) => {
      const { response, body, url } = await prelude(request);
      if (response) return response;
      const s = sessionOf(tenantOf(body, url));
      if (s.qrId === undefined || s.qrId !== url.searchParams.get('qr_id')) {
        return HttpResponse.json({ ok: false, error: 'qr_not_found' }, { status: 404 });
      }
      if (s.state === 'failed') return HttpResponse.json({ ok: false, error: 'qr_expired' }, { status: 410 });
      // PNG signature plus the QR id, enough to tell images apart.
      const bytes = new Uint8Array([
        0x89,
        0x50,
        0x4e,
        0x47,
        0x0d,
        0x0a,
        0x1a,
        0x0a,
        ...new TextEncoder().encode(s.qrId),
      ]);
      return new HttpResponse(bytes, { headers: { 'content-type': 'image/png' } });
    }),
    http.post(`${baseUrl}/auth/2fa`, async ({ request }) => {
      const { response, body, url } = await prelude(request);
      if (response) return response;
      const s = sessionOf(tenantOf(body, url));
      if (s.state !== 'need_2fa') return HttpResponse.json({ ok: false, error: 'not_waiting_2fa' }, { status: 409 });
      if ((body as { password?: unknown }).password !== password) {
        return HttpResponse.json({ ok: false, error: 'bad_password' }, { status: 401 });
      }
      s.state = 'authorized';
      return HttpResponse.json(statusBody(s));
    }),
    http.post(`${baseUrl}/auth/logout`, async ({ request }) => {
      const { response, body, url } = await prelude(request);
      if (response) return response;
      sessions.set(tenantOf(body, url), { state: 'need_qr' });
      return HttpResponse.json({ ok: true });
    }),
  ];

  return {
    baseUrl,
    adminToken,
    handlers,
    /** Messages accepted by /send. */
    sent,
    /** Every request (no secrets). */
    calls,
    fail(fault: Fault) {
      faults.push(fault);
    },
    /** Simulates the user scanning the QR; with 2FA the session waits for the password. */
    scan(tenant: number, withTwoFactor = false) {
      const s = sessionOf(tenant);
      s.state = withTwoFactor ? 'need_2fa' : 'authorized';
    },
    /** Simulates QR expiry. */
    expire(tenant: number) {
      sessionOf(tenant).state = 'failed';
    },
    state(tenant: number): TelegramLoginState {
      return sessionOf(tenant).state;
    },
  };
}
