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
import { AdapterError, assertChannel, ErrorCodes } from '../errors.js';
import { errorFromResponse, httpCall, joinUrl, readJson } from '../http.js';
import { type Clock, type FetchLike, systemClock } from '../ports.js';
import type { TransportMessage } from '../schemas.js';
import { resolveTelegramTarget, telegramTargetToWire } from '../telegram-target.js';
import { SPECIFICATION_VERSION } from '../version.js';
import { parseWorkerWebhook, verifyWithProviderTokens, workerSendResult } from './shared.js';

/** The seed's QR login stages. */
export const TELEGRAM_LOGIN_STATES = ['need_qr', 'need_2fa', 'authorized', 'failed'] as const;
/** One of TELEGRAM_LOGIN_STATES. */
export type TelegramLoginState = (typeof TELEGRAM_LOGIN_STATES)[number];

const TRANSITIONS: Record<TelegramLoginState, readonly TelegramLoginState[]> = {
  need_qr: ['need_2fa', 'authorized', 'failed'],
  need_2fa: ['authorized', 'failed'],
  authorized: ['need_qr'], // only after logout
  failed: ['need_qr'], // a new /start issues a new QR
};

/** need_qr -> need_2fa -> authorized | failed; failed -> need_qr again. */
export function isTelegramLoginTransitionAllowed(from: TelegramLoginState, to: TelegramLoginState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Options of createTelegramWorkerAdapter. */
export interface TelegramWorkerAdapterOptions {
  /** TGWORKER_BASE_URL, e.g. http://tgworker:9000. */
  baseUrl: string;
  /** ADMIN_TOKEN, sent as X-Admin-Token on every RPC. */
  adminToken: string;
  /** Per-tenant provider tokens, for verifyWebhook. Without it every webhook is rejected. */
  providerTokens?: Pick<ProviderTokenStore, 'get'>;
  /** HTTP client (default: global fetch). */
  fetch?: FetchLike;
  /** Time source for Retry-After (default: system clock). */
  clock?: Clock;
  /** Per-RPC timeout in ms (default 15 000); a timeout is a retryable upstream_unavailable. */
  timeoutMs?: number;
}

/** The worker's login state, typed for Telegram. */
export interface TelegramLoginStatus extends SessionStatus {
  /** The seed's login stage (derived from older workers' flags when they omit `state`). */
  state: TelegramLoginState;
  /** The login waits for the 2FA password (state need_2fa): send it with session.submitPassword. */
  needs2fa: boolean;
  /** Where the worker serves the current QR image (`qr_url`), when it says. */
  qrUrl?: string;
  /** When the current QR code expires, as the worker wrote it (`expires_at`). */
  expiresAt?: string;
}

/** Telegram adapter over the tgworker RPC, with QR + 2FA login. */
export interface TelegramWorkerAdapter extends ProviderAdapter {
  /** Always `telegram`. */
  readonly provider: 'telegram';
  /** QR login, 2FA password and logout through the worker. */
  readonly session: SessionControl & {
    /** Starts a QR login. 409 already_authorized when the session is logged in. */
    start(tenant: number): Promise<TelegramLoginStatus>;
    /** Current login state. */
    status(tenant: number): Promise<TelegramLoginStatus>;
    /** Sends the 2FA password (state need_2fa). 401 bad_password, 409 not_waiting_2fa. */
    submitPassword(tenant: number, password: string): Promise<TelegramLoginStatus>;
  };
}

const CAPABILITIES: AdapterCapabilities = {
  text: true,
  attachments: true,
  captions: true,
  replyTo: true,
  sessions: true,
};

/** Worker RPC routes (tgworker). */
export const TELEGRAM_WORKER_ROUTES = {
  /** POST: send a message. */
  send: '/send',
  /** POST: start a QR login. */
  start: '/auth/qr/start',
  /** GET: login state. */
  status: '/auth/status',
  /** GET: the QR code as PNG. */
  qr: '/auth/qr.png',
  /** POST: the 2FA password. */
  password: '/auth/2fa',
  /** POST: log the session out. */
  logout: '/auth/logout',
} as const;

/** Telegram through the tgworker HTTP RPC (X-Admin-Token). */
export function createTelegramWorkerAdapter(options: TelegramWorkerAdapterOptions): TelegramWorkerAdapter {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clock = options.clock ?? systemClock;
  const provider = 'telegram';

  const codeFor = (status: number, upstream?: string): string | undefined => {
    if (status >= 500 || status === 408) return ErrorCodes.tgUnavailable;
    return upstream;
  };

  async function rpc(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const url = joinUrl(options.baseUrl, path);
    const headers: Record<string, string> = { 'X-Admin-Token': options.adminToken, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await httpCall(
        url,
        { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
        { provider, fetch: doFetch, clock, timeoutMs: options.timeoutMs, signal },
      );
    } catch (error) {
      if (error instanceof AdapterError) {
        throw new AdapterError({
          provider,
          code: ErrorCodes.tgUnavailable,
          message: error.message,
          isRetryable: true,
          cause: error,
        });
      }
      throw error;
    }
    if (!response.ok) throw await errorFromResponse(response, url, { provider, clock, codeFor });
    return response;
  }

  async function rpcJson(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await rpc(method, path, body);
    const json = await readJson(response, joinUrl(options.baseUrl, path), provider);
    return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  }

  function loginStatus(raw: Record<string, unknown>): TelegramLoginStatus {
    const state = TELEGRAM_LOGIN_STATES.includes(raw.state as TelegramLoginState)
      ? (raw.state as TelegramLoginState)
      : raw.authorized === true
        ? 'authorized'
        : raw.needs_2fa === true
          ? 'need_2fa'
          : // An older worker omits `state`: a live QR still means "waiting for the scan".
            raw.qr_id !== undefined && raw.qr_id !== null
            ? 'need_qr'
            : 'failed';
    const status: TelegramLoginStatus = {
      state,
      ready: state === 'authorized',
      needs2fa: state === 'need_2fa',
      qrAvailable: state === 'need_qr' && raw.qr_id !== undefined && raw.qr_id !== null,
      raw,
    };
    if (raw.qr_id !== undefined && raw.qr_id !== null) status.qrId = String(raw.qr_id);
    if (typeof raw.qr_url === 'string') status.qrUrl = raw.qr_url;
    if (typeof raw.expires_at === 'string' || typeof raw.expires_at === 'number')
      status.expiresAt = String(raw.expires_at);
    return status;
  }

  const session: TelegramWorkerAdapter['session'] = {
    async start(tenant) {
      return loginStatus(await rpcJson('POST', TELEGRAM_WORKER_ROUTES.start, { tenant }));
    },
    async status(tenant) {
      return loginStatus(await rpcJson('GET', `${TELEGRAM_WORKER_ROUTES.status}?tenant=${tenant}`));
    },
    async qr(tenant, qrId) {
      if (qrId === undefined) {
        throw new AdapterError({
          provider,
          code: ErrorCodes.qrNotFound,
          message: 'telegram: qr_id is required',
          isRetryable: false,
          status: 404,
        });
      }
      const response = await rpc(
        'GET',
        `${TELEGRAM_WORKER_ROUTES.qr}?tenant=${tenant}&qr_id=${encodeURIComponent(qrId)}`,
      );
      return {
        contentType: response.headers.get('content-type') ?? 'image/png',
        body: new Uint8Array(await response.arrayBuffer()),
      };
    },
    async submitPassword(tenant, password) {
      return loginStatus(await rpcJson('POST', TELEGRAM_WORKER_ROUTES.password, { tenant, password }));
    },
    async logout(tenant) {
      await rpc('POST', TELEGRAM_WORKER_ROUTES.logout, { tenant });
    },
  };

  return {
    specificationVersion: SPECIFICATION_VERSION,
    provider,
    channel: 'telegram',
    capabilities: CAPABILITIES,
    session,

    async send(message: TransportMessage, sendOptions?: SendOptions): Promise<SendResult> {
      assertChannel(message, 'telegram');
      const target = resolveTelegramTarget({ to: message.to });
      const warnings: AdapterWarning[] = [];
      const body: Record<string, unknown> = { tenant: message.tenant, to: telegramTargetToWire(target) };
      if (message.text !== undefined) body.text = message.text;
      if (message.attachments !== undefined) body.attachments = message.attachments;
      if (message.meta?.reply_to !== undefined) body.reply_to = message.meta.reply_to;
      if (message.client_msg_id !== undefined) body.client_msg_id = message.client_msg_id;
      const response = await rpc('POST', TELEGRAM_WORKER_ROUTES.send, body, sendOptions?.signal);
      return workerSendResult(
        await readJson(response, joinUrl(options.baseUrl, '/send'), provider),
        provider,
        warnings,
      );
    },

    async parseWebhook(body: unknown): Promise<WebhookParseResult> {
      // tgworker posts a MessageIn without event/channel for plain messages.
      const withDefaults =
        typeof body === 'object' && body !== null
          ? { event: 'messages.incoming', channel: 'telegram', ...(body as Record<string, unknown>) }
          : body;
      return parseWorkerWebhook(withDefaults);
    },

    verifyWebhook: (request: WebhookVerifyRequest) => verifyWithProviderTokens(options.providerTokens, request),
  };
}
