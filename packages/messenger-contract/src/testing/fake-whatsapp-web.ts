import { HttpResponse, http, type RequestHandler } from 'msw';
import { bodyOf, type Fault, FaultQueue, type RecordedCall } from './faults.js';

/** X-Auth-Token the fake accepts by default (a test value, not a secret). */
export const FAKE_WAWEB_TOKEN = 'fake-waweb-token-0000';

/** Options of createFakeWhatsAppWeb. */
export interface FakeWhatsAppWebOptions {
  /** Tenants that have a container; each gets base URL `http://waweb-<tenant>.test:9001`. */
  tenants: number[];
  /** X-Auth-Token the containers require (default FAKE_WAWEB_TOKEN). */
  authToken?: string;
}

interface WaSession {
  ready: boolean;
  qr: boolean;
  qrId?: string;
  webhookUrl?: string;
}

/** msw fake of the per-tenant waweb containers: /session/{tenant}/start|status|qr.svg|logout and /send. */
export interface FakeWhatsAppWeb {
  /** X-Auth-Token the containers require. */
  authToken: string;
  /** Base URL of the tenant's container (`http://waweb-<tenant>.test:9001`): pass it as the adapter's baseUrlFor. */
  baseUrlFor(tenant: number): string;
  /** msw handlers to install (`setupServer(...fake.handlers)` or `server.use`). */
  handlers: RequestHandler[];
  /** Messages accepted by /send, with the container that received them. */
  sent: (Record<string, unknown> & {
    /** Tenant whose container received the message. */
    container: number;
  })[];
  /** Every request the fake saw, in order (secrets not recorded). */
  calls: RecordedCall[];
  /** Scripts an upstream failure for the next matching calls. */
  fail(fault: Fault): void;
  /** Simulates scanning the QR on the phone. */
  scan(tenant: number): void;
  /** The webhook URL the tenant's last session start registered, if any. */
  webhookUrl(tenant: number): string | undefined;
}

/** Creates a fresh FakeWhatsAppWeb with one container per tenant; install its `handlers` in an msw server. */
export function createFakeWhatsAppWeb(options: FakeWhatsAppWebOptions): FakeWhatsAppWeb {
  const authToken = options.authToken ?? FAKE_WAWEB_TOKEN;
  const sessions = new Map<number, WaSession>();
  const faults = new FaultQueue();
  const calls: RecordedCall[] = [];
  const sent: (Record<string, unknown> & { container: number })[] = [];
  let counter = 0;

  const baseUrlFor = (tenant: number): string => `http://waweb-${tenant}.test:9001`;
  const sessionOf = (tenant: number): WaSession => {
    let s = sessions.get(tenant);
    if (s === undefined) {
      s = { ready: false, qr: false };
      sessions.set(tenant, s);
    }
    return s;
  };

  const handlersFor = (container: number): RequestHandler[] => {
    const base = baseUrlFor(container);
    async function prelude(request: Request, pathTenant?: string): Promise<{ response?: Response; body: unknown }> {
      const url = new URL(request.url);
      const body = await bodyOf(request);
      calls.push({ method: request.method, path: `${url.host}${url.pathname}`, body });
      if (request.headers.get('x-auth-token') !== authToken) {
        return { response: HttpResponse.json({ ok: false, error: 'unauthorized' }, { status: 401 }), body };
      }
      // One container serves one tenant: a request for another tenant is a routing bug.
      if (pathTenant !== undefined && Number(pathTenant) !== container) {
        return { response: HttpResponse.json({ ok: false, error: 'tenant_mismatch' }, { status: 404 }), body };
      }
      const fault = faults.take(url.pathname);
      return fault === undefined ? { body } : { response: fault, body };
    }
    const statusBody = (s: WaSession) => ({ ready: s.ready, qr: s.qr, qr_id: s.qrId ?? null });
    return [
      http.post(`${base}/session/:tenant/start`, async ({ request, params }) => {
        const { response, body } = await prelude(request, String(params.tenant));
        if (response) return response;
        const s = sessionOf(container);
        const webhook = (body as { webhook_url?: unknown } | undefined)?.webhook_url;
        if (typeof webhook === 'string') s.webhookUrl = webhook;
        if (!s.ready) {
          s.qr = true;
          s.qrId = String(1_715_940_000_000 + ++counter);
        }
        return HttpResponse.json(statusBody(s));
      }),
      http.get(`${base}/session/:tenant/status`, async ({ request, params }) => {
        const { response } = await prelude(request, String(params.tenant));
        if (response) return response;
        return HttpResponse.json(statusBody(sessionOf(container)));
      }),
      http.get(`${base}/session/:tenant/qr.svg`, async ({ request, params }) => {
        const { response } = await prelude(request, String(params.tenant));
        if (response) return response;
        const s = sessionOf(container);
        if (!s.qr) return HttpResponse.json({ ok: false, error: 'qr_not_found' }, { status: 404 });
        return new HttpResponse(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" data-qr="${s.qrId}"/>`, {
          headers: { 'content-type': 'image/svg+xml' },
        });
      }),
      http.post(`${base}/session/:tenant/logout`, async ({ request, params }) => {
        const { response } = await prelude(request, String(params.tenant));
        if (response) return response;
        sessions.set(container, { ready: false, qr: false });
        return HttpResponse.json({ ok: true });
      }),
      http.post(`${base}/send`, async ({ request }) => {
        const { response, body } = await prelude(request);
        if (response) return response;
        const message = body as Record<string, unknown>;
        if (!sessionOf(container).ready)
          return HttpResponse.json({ ok: false, error: 'session_not_ready' }, { status: 409 });
        if (typeof message.to !== 'string' || !/@(c\.us|lid|g\.us)$/.test(message.to)) {
          return HttpResponse.json({ ok: false, error: 'invalid_jid' }, { status: 400 });
        }
        sent.push({ ...message, container });
        return HttpResponse.json({ ok: true, message_id: `true_${message.to}_${++counter}` });
      }),
    ];
  };

  return {
    authToken,
    baseUrlFor,
    handlers: options.tenants.flatMap(handlersFor),
    sent,
    calls,
    fail(fault: Fault) {
      faults.push(fault);
    },
    /** Simulates scanning the QR on the phone. */
    scan(tenant: number) {
      const s = sessionOf(tenant);
      s.ready = true;
      s.qr = false;
      delete s.qrId;
    },
    webhookUrl(tenant: number): string | undefined {
      return sessionOf(tenant).webhookUrl;
    },
  };
}
