import type {
  AdapterCapabilities,
  AdapterWarning,
  ProviderAdapter,
  SendOptions,
  SendResult,
  SessionControl,
  SessionStatus,
  WebhookParseResult,
  WebhookVerifyRequest,
} from '../adapter.js';
import type { ProviderTokenStore } from '../auth.js';
import { assertChannel } from '../errors.js';
import { errorFromResponse, httpCall, joinUrl, readJson } from '../http.js';
import { type Clock, type FetchLike, systemClock } from '../ports.js';
import type { TransportMessage } from '../schemas.js';
import { SPECIFICATION_VERSION } from '../version.js';
import { normaliseWhatsAppAddress } from '../whatsapp-address.js';
import { parseWorkerWebhook, verifyWithProviderTokens, workerSendResult } from './shared.js';

/** Options of createWhatsAppWebAdapter. */
export interface WhatsAppWebAdapterOptions {
  /** Base URL of the tenant's own waweb container (one container per tenant), e.g. http://waweb-7:9001. */
  baseUrlFor: (tenant: number) => string | Promise<string>;
  /** WAWEB_ADMIN_TOKEN, sent as X-Auth-Token. */
  authToken: string;
  /** Per-tenant provider tokens, for verifyWebhook. Without it every webhook is rejected. */
  providerTokens?: Pick<ProviderTokenStore, 'get'>;
  /** HTTP client (default: global fetch). */
  fetch?: FetchLike;
  /** Time source for Retry-After (default: system clock). */
  clock?: Clock;
  /** Per-request timeout in ms (default 15 000); a timeout is a retryable upstream_unavailable. */
  timeoutMs?: number;
}

/** WhatsApp adapter over per-tenant waweb workers, with QR login. */
export interface WhatsAppWebAdapter extends ProviderAdapter {
  /** Always `whatsapp`. */
  readonly provider: 'whatsapp';
  /** QR login and logout of the tenant's waweb container. */
  readonly session: SessionControl;
}

const CAPABILITIES: AdapterCapabilities = {
  text: true,
  attachments: true,
  captions: true,
  replyTo: false,
  sessions: true,
};

/** WhatsApp through a per-tenant waweb worker: /session/{tenant}/start|status|qr.svg|logout and /send. */
export function createWhatsAppWebAdapter(options: WhatsAppWebAdapterOptions): WhatsAppWebAdapter {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clock = options.clock ?? systemClock;
  const provider = 'whatsapp';

  async function call(
    tenant: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<{ response: Response; url: string }> {
    const url = joinUrl(await options.baseUrlFor(tenant), path);
    const headers: Record<string, string> = { 'X-Auth-Token': options.authToken };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await httpCall(
      url,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
      { provider, fetch: doFetch, clock, timeoutMs: options.timeoutMs, signal },
    );
    if (!response.ok) throw await errorFromResponse(response, url, { provider, clock });
    return { response, url };
  }

  async function statusOf(
    tenant: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<SessionStatus> {
    const { response, url } = await call(tenant, method, path, body);
    const raw = (await readJson(response, url, provider)) as Record<string, unknown>;
    const ready = raw.ready === true;
    const qrAvailable = raw.qr === true || typeof raw.qr === 'string';
    const status: SessionStatus = {
      state: typeof raw.state === 'string' ? raw.state : ready ? 'ready' : qrAvailable ? 'need_qr' : 'starting',
      ready,
      qrAvailable,
      raw,
    };
    if (raw.qr_id !== undefined && raw.qr_id !== null) status.qrId = String(raw.qr_id);
    return status;
  }

  const session: SessionControl = {
    start(tenant, startOptions) {
      const body: Record<string, unknown> = { tenant_id: tenant };
      if (startOptions?.webhookUrl !== undefined) body.webhook_url = startOptions.webhookUrl;
      return statusOf(tenant, 'POST', `/session/${tenant}/start`, body);
    },
    status(tenant) {
      return statusOf(tenant, 'GET', `/session/${tenant}/status`);
    },
    async qr(tenant) {
      const { response } = await call(tenant, 'GET', `/session/${tenant}/qr.svg`);
      return {
        contentType: response.headers.get('content-type') ?? 'image/svg+xml',
        body: new Uint8Array(await response.arrayBuffer()),
      };
    },
    async logout(tenant) {
      await call(tenant, 'POST', `/session/${tenant}/logout`);
    },
  };

  return {
    specificationVersion: SPECIFICATION_VERSION,
    provider,
    channel: 'whatsapp',
    capabilities: CAPABILITIES,
    session,

    async send(message: TransportMessage, sendOptions?: SendOptions): Promise<SendResult> {
      assertChannel(message, 'whatsapp');
      const address = normaliseWhatsAppAddress(message.to, { source: 'human' });
      const warnings: AdapterWarning[] = [];
      if (message.meta?.reply_to !== undefined) {
        warnings.push({ code: 'reply_to_unsupported', message: 'WhatsApp worker ignores meta.reply_to' });
      }
      const body: Record<string, unknown> = { tenant: message.tenant, to: address.jid };
      if (message.text !== undefined) body.text = message.text;
      if (message.attachments !== undefined) body.attachments = message.attachments;
      if (message.client_msg_id !== undefined) body.client_msg_id = message.client_msg_id;
      const { response, url } = await call(message.tenant, 'POST', '/send', body, sendOptions?.signal);
      return workerSendResult(await readJson(response, url, provider), provider, warnings);
    },

    async parseWebhook(body: unknown): Promise<WebhookParseResult> {
      return parseWorkerWebhook(body);
    },

    verifyWebhook: (request: WebhookVerifyRequest) => verifyWithProviderTokens(options.providerTokens, request),
  };
}
