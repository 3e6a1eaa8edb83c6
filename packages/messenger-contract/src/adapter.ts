import type { WebhookRequestParts } from './auth.js';
import { AdapterError, MessengerContractError } from './errors.js';
import type { Channel, MessageIn, TransportMessage, WorkerResult } from './schemas.js';
import type { SpecificationVersion } from './version.js';

/** What a provider can deliver; a TransportMessage part it cannot honour becomes an AdapterWarning. */
export interface AdapterCapabilities {
  /** Can send plain text. */
  text: boolean;
  /** Can send media / file attachments. */
  attachments: boolean;
  /** Can send a caption with an attachment. */
  captions: boolean;
  /** Can send a message as a reply to an earlier one (`meta.reply_to`). */
  replyTo: boolean;
  /** Longest text the provider accepts, when limited. */
  maxTextLength?: number;
  /** Has a session part (QR login / logout). */
  sessions: boolean;
}

/** A feature the provider cannot honour: reported, never silently dropped. */
export interface AdapterWarning {
  /** Which unsupported part of the message was not delivered. */
  code: 'reply_to_unsupported' | 'captions_unsupported' | 'attachments_unsupported';
  /** Human-readable explanation, for logs. */
  message: string;
}

/** Per-call options of ProviderAdapter.send. */
export interface SendOptions {
  /** Aborts the upstream request (the adapter's own timeout still applies). */
  signal?: AbortSignal;
}

/** A successful send (failures throw AdapterError instead). */
export interface SendResult {
  /** Always true: the provider accepted the message. */
  ok: true;
  /** Provider that delivered the message. */
  provider: Channel;
  /** Provider's id of the sent message, when it returns one. */
  providerMessageId?: string;
  /** Parts of the message the provider could not honour (empty when everything was sent). */
  warnings: AdapterWarning[];
}

/** What the caller knows about a webhook call besides its body. */
export interface WebhookContext {
  /** Tenant taken from the route or the token, for providers whose payload does not carry it (Avito). */
  tenant?: number;
}

/** Outcome of ProviderAdapter.parseWebhook: valid events plus the parts deliberately skipped. */
export interface WebhookParseResult {
  /** Normalised events to store / enqueue, in payload order. */
  events: MessageIn[];
  /** Payload parts intentionally not turned into events (echo, system message, unsupported content), with reason. */
  ignored: {
    /** Why the part was skipped (logged as `webhook_skip`). */
    reason: string;
    /** Provider id of the skipped part, when it has one. */
    id?: string;
  }[];
}

/** A webhook call to authenticate: its query and headers plus the tenant it claims. */
export interface WebhookVerifyRequest extends WebhookRequestParts {
  /** Tenant whose provider token the call must present. */
  tenant: number;
}

/** Login state of a provider session (QR login). */
export interface SessionStatus {
  /** Provider's own state (Telegram: need_qr | need_2fa | authorized | failed). */
  state: string;
  /** The session is logged in and can send. */
  ready: boolean;
  /** A QR code is waiting to be scanned (fetch it with SessionControl.qr). */
  qrAvailable: boolean;
  /** Id of the current QR code, when the provider numbers them. */
  qrId?: string;
  /** The provider's answer as received, for diagnostics. */
  raw: Record<string, unknown>;
}

/** Optional session part of an adapter (QR login). */
export interface SessionControl {
  /** Starts a login for the tenant (a QR code follows); `webhookUrl` is where the provider posts events. */
  start(tenant: number, options?: { webhookUrl?: string }): Promise<SessionStatus>;
  /** Current login state of the tenant's session. */
  status(tenant: number): Promise<SessionStatus>;
  /** QR image: SVG text for WhatsApp, PNG bytes for Telegram. */
  qr(
    tenant: number,
    qrId?: string,
  ): Promise<{
    /** MIME type of `body`, as the worker sent it (default `image/svg+xml` for WhatsApp, `image/png` for Telegram). */
    contentType: string;
    /** The image bytes. */
    body: Uint8Array;
  }>;
  /** Ends the tenant's session at the provider. */
  logout(tenant: number): Promise<void>;
}

/** One provider behind the unified contract (the shape of Vercel AI SDK provider specs). */
export interface ProviderAdapter {
  /** Contract version the adapter implements (SPECIFICATION_VERSION). */
  readonly specificationVersion: SpecificationVersion;
  /** Provider name, as written in logs and AdapterError.provider. */
  readonly provider: Channel;
  /** Channel of the TransportMessages this adapter accepts. */
  readonly channel: Channel;
  /** What this provider can deliver. */
  readonly capabilities: AdapterCapabilities;
  /** Sends a validated TransportMessage. Throws AdapterError (with isRetryable / retryAfter) on failure. */
  send(message: TransportMessage, options?: SendOptions): Promise<SendResult>;
  /** Turns a provider webhook body into MessageIn events. */
  parseWebhook(body: unknown, context?: WebhookContext): Promise<WebhookParseResult>;
  /** Authenticates a webhook call (per-tenant provider token, constant-time). */
  verifyWebhook(request: WebhookVerifyRequest): Promise<boolean>;
  /** QR login / logout, for providers with sessions (`capabilities.sessions`). */
  readonly session?: SessionControl;
}

/** Normalises a send outcome to the seed's worker answer `{ok:true}` / `{ok:false,error}`. */
export function toWorkerResult(outcome: SendResult | unknown): WorkerResult {
  if (typeof outcome === 'object' && outcome !== null && (outcome as SendResult).ok === true) {
    const result = outcome as SendResult;
    const out: WorkerResult = { ok: true };
    if (result.providerMessageId !== undefined) out.message_id = result.providerMessageId;
    if (result.warnings.length > 0) out.warnings = result.warnings.map((w) => w.code);
    return out;
  }
  if (outcome instanceof AdapterError) {
    const out: WorkerResult = { ok: false, error: outcome.code, retryable: outcome.isRetryable };
    if (outcome.retryAfter !== undefined) out.retry_after = outcome.retryAfter;
    return out;
  }
  if (outcome instanceof MessengerContractError) return { ok: false, error: outcome.code };
  return { ok: false, error: 'internal_error' };
}
