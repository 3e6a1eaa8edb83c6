import type { WebhookRequestParts } from './auth.js';
import { AdapterError, MessengerContractError } from './errors.js';
import type { Channel, MessageIn, TransportMessage, WorkerResult } from './schemas.js';
import type { SpecificationVersion } from './version.js';

export interface AdapterCapabilities {
  text: boolean;
  attachments: boolean;
  captions: boolean;
  replyTo: boolean;
  /** Longest text the provider accepts, when limited. */
  maxTextLength?: number;
  /** Has a session part (QR login / logout). */
  sessions: boolean;
}

/** A feature the provider cannot honour: reported, never silently dropped. */
export interface AdapterWarning {
  code: 'reply_to_unsupported' | 'captions_unsupported' | 'attachments_unsupported';
  message: string;
}

export interface SendOptions {
  signal?: AbortSignal;
}

export interface SendResult {
  ok: true;
  provider: Channel;
  /** Provider's id of the sent message, when it returns one. */
  providerMessageId?: string;
  warnings: AdapterWarning[];
}

export interface WebhookContext {
  /** Tenant taken from the route or the token, for providers whose payload does not carry it (Avito). */
  tenant?: number;
}

export interface WebhookParseResult {
  events: MessageIn[];
  /** Payload parts intentionally not turned into events (echo, system message, unsupported content), with reason. */
  ignored: { reason: string; id?: string }[];
}

export interface WebhookVerifyRequest extends WebhookRequestParts {
  tenant: number;
}

export interface SessionStatus {
  /** Provider's own state (Telegram: need_qr | need_2fa | authorized | failed). */
  state: string;
  ready: boolean;
  qrAvailable: boolean;
  qrId?: string;
  raw: Record<string, unknown>;
}

/** Optional session part of an adapter (QR login). */
export interface SessionControl {
  start(tenant: number, options?: { webhookUrl?: string }): Promise<SessionStatus>;
  status(tenant: number): Promise<SessionStatus>;
  /** QR image: SVG text for WhatsApp, PNG bytes for Telegram. */
  qr(tenant: number, qrId?: string): Promise<{ contentType: string; body: Uint8Array }>;
  logout(tenant: number): Promise<void>;
}

/** One provider behind the unified contract (the shape of Vercel AI SDK provider specs). */
export interface ProviderAdapter {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: Channel;
  readonly channel: Channel;
  readonly capabilities: AdapterCapabilities;
  /** Sends a validated TransportMessage. Throws AdapterError (with isRetryable / retryAfter) on failure. */
  send(message: TransportMessage, options?: SendOptions): Promise<SendResult>;
  /** Turns a provider webhook body into MessageIn events. */
  parseWebhook(body: unknown, context?: WebhookContext): Promise<WebhookParseResult>;
  /** Authenticates a webhook call (per-tenant provider token, constant-time). */
  verifyWebhook(request: WebhookVerifyRequest): Promise<boolean>;
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
