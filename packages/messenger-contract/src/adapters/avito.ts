import { z } from 'zod';
import type {
  AdapterCapabilities,
  AdapterWarning,
  ProviderAdapter,
  SendOptions,
  SendResult,
  WebhookContext,
  WebhookParseResult,
  WebhookVerifyRequest,
} from '../adapter.js';
import type { ProviderTokenStore } from '../auth.js';
import { AdapterError, assertChannel, ErrorCodes, MessengerContractError } from '../errors.js';
import { errorFromResponse, httpCall, joinUrl, readJson } from '../http.js';
import { parseMessageIn } from '../normalise.js';
import { type Clock, type FetchLike, systemClock } from '../ports.js';
import type { InboundMedia, MessageIn, TransportMessage } from '../schemas.js';
import { SPECIFICATION_VERSION } from '../version.js';
import { WebhookPayloadError } from '../webhook-error.js';
import { type AvitoChatCache, type AvitoTokenStore, type AvitoTokens, InMemoryAvitoChatCache } from './avito-stores.js';
import { verifyWithProviderTokens } from './shared.js';

/** Base URL of the Avito API (the default of AvitoAdapterOptions.baseUrl). */
export const AVITO_API_URL = 'https://api.avito.ru';
/** Longest text Avito accepts in one message, in characters (code points); longer sends fail with text_too_long. */
export const AVITO_MAX_TEXT_LENGTH = 1000;
/** OAuth scopes the integration needs (read and write messenger, read the account), comma-separated. */
export const AVITO_SCOPES = 'messenger:read,messenger:write,user:read';

/** Options of createAvitoAdapter. */
export interface AvitoAdapterOptions {
  /** OAuth client id of the Avito application. */
  clientId: string;
  /** OAuth client secret of the Avito application; never logged. */
  clientSecret: string;
  /** Where each tenant's OAuth tokens live. */
  tokenStore: AvitoTokenStore;
  /** Avito user -> chat map, for `to` of the form `user:<id>` (default: an in-memory cache of 50 000 entries). */
  chatCache?: AvitoChatCache;
  /**
   * `authorization_code` (default; each tenant connected its own account, tokens come from exchangeCode) or
   * `client_credentials` (the application's own account; tokens are fetched on demand).
   */
  grant?: 'authorization_code' | 'client_credentials';
  /** API base URL (default AVITO_API_URL); point it at a fake in tests. */
  baseUrl?: string;
  /** Refresh this long before expiry (default 60 s). */
  refreshSkewMs?: number;
  /** Per-tenant provider tokens that authenticate webhook calls; without it every webhook is rejected. */
  providerTokens?: Pick<ProviderTokenStore, 'get'>;
  /** HTTP client (default: global fetch). */
  fetch?: FetchLike;
  /** Time source for token expiry and Retry-After (default: system clock). */
  clock?: Clock;
  /** Per-request timeout in ms (default 15 000); a timeout is a retryable upstream_unavailable. */
  timeoutMs?: number;
}

/** One webhook subscription of an Avito account. */
export interface AvitoSubscription {
  /** URL Avito posts messenger events to. */
  url: string;
  /** Webhook payload version, when Avito reports it. */
  version?: string;
}

/** Avito Messenger adapter: the ProviderAdapter plus OAuth and webhook-subscription calls. */
export interface AvitoAdapter extends ProviderAdapter {
  /** Always `avito`. */
  readonly provider: 'avito';
  /** Exchanges an OAuth `code` (from /connect/avito) and stores both tokens and the account id. */
  exchangeCode(tenant: number, code: string, redirectUri?: string): Promise<AvitoTokens>;
  /** A valid access token (refreshed when due). */
  accessToken(tenant: number): Promise<string>;
  /** Avito account id (`user_id`) of the tenant, fetched once from /core/v1/accounts/self. */
  accountId(tenant: number): Promise<number>;
  /** POST /messenger/v3/webhook. */
  subscribe(tenant: number, url: string): Promise<void>;
  /** POST /messenger/v1/webhook/unsubscribe. */
  unsubscribe(tenant: number, url: string): Promise<void>;
  /** POST /messenger/v1/subscriptions. */
  listSubscriptions(tenant: number): Promise<AvitoSubscription[]>;
}

const CAPABILITIES: AdapterCapabilities = {
  text: true,
  attachments: false,
  captions: false,
  replyTo: false,
  maxTextLength: AVITO_MAX_TEXT_LENGTH,
  sessions: false,
};

const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
});

const IdValue = z.union([z.string().min(1), z.number()]).transform(String);

/** Avito messenger webhook (v3): `payload.value.user_id` is the receiving account; there is no account_id. */
export const AvitoWebhookSchema = z.looseObject({
  id: z.string().optional(),
  version: z.string().optional(),
  timestamp: z.union([z.number(), z.string()]).optional(),
  payload: z.looseObject({
    type: z.string(),
    value: z
      .looseObject({
        id: IdValue.optional(),
        chat_id: IdValue.optional(),
        user_id: IdValue.optional(),
        author_id: IdValue.optional(),
        created: z.union([z.number(), z.string()]).optional(),
        published_at: z.string().optional(),
        type: z.string().optional(),
        chat_type: z.string().optional(),
        item_id: IdValue.optional(),
        // A content that is not an object (null on deleted messages) is "no content": reported as ignored, not 422.
        content: z.record(z.string(), z.unknown()).optional().catch(undefined),
      })
      .optional(),
  }),
});
/** A parsed Avito messenger webhook (the output of AvitoWebhookSchema). */
export type AvitoWebhook = z.infer<typeof AvitoWebhookSchema>;

/** `to` of the form `user:<avito user id>` is resolved through the chat cache; anything else is a chat id. */
export const AVITO_USER_TARGET_PREFIX = 'user:';

/** Avito Messenger API: OAuth (client_credentials / authorization_code / refresh_token), send, webhooks. */
export function createAvitoAdapter(options: AvitoAdapterOptions): AvitoAdapter {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clock = options.clock ?? systemClock;
  const baseUrl = options.baseUrl ?? AVITO_API_URL;
  const skew = options.refreshSkewMs ?? 60_000;
  const grant = options.grant ?? 'authorization_code';
  const chatCache = options.chatCache ?? new InMemoryAvitoChatCache();
  const provider = 'avito';
  // Single flight per tenant: two concurrent refreshes with one refresh token would invalidate each other.
  const inflight = new Map<number, Promise<AvitoTokens>>();

  const unauthorized = (message: string, status?: number): AdapterError =>
    new AdapterError({ provider, code: ErrorCodes.unauthorized, message, isRetryable: false, status });

  async function tokenRequest(params: Record<string, string>): Promise<z.infer<typeof TokenResponseSchema>> {
    const url = joinUrl(baseUrl, '/token');
    const body = new URLSearchParams({ client_id: options.clientId, client_secret: options.clientSecret, ...params });
    const response = await httpCall(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      { provider, fetch: doFetch, clock, timeoutMs: options.timeoutMs },
    );
    if (!response.ok) {
      const error = await errorFromResponse(response, url, { provider, clock });
      if (error.isRetryable) throw error;
      throw unauthorized(
        `avito: token request (${params.grant_type}) rejected with ${response.status}`,
        response.status,
      );
    }
    const parsed = TokenResponseSchema.safeParse(await readJson(response, url, provider));
    // Avito answers 200 with {error} for a bad grant on some paths.
    if (!parsed.success) throw unauthorized(`avito: token response (${params.grant_type}) has no access_token`);
    return parsed.data;
  }

  function toTokens(answer: z.infer<typeof TokenResponseSchema>, previous?: AvitoTokens): AvitoTokens {
    const tokens: AvitoTokens = {
      accessToken: answer.access_token,
      expiresAt: clock.now() + (answer.expires_in ?? 86_400) * 1000,
    };
    const refresh = answer.refresh_token ?? previous?.refreshToken;
    if (refresh !== undefined) tokens.refreshToken = refresh;
    if (previous?.userId !== undefined) tokens.userId = previous.userId;
    return tokens;
  }

  function singleFlight(tenant: number, work: () => Promise<AvitoTokens>): Promise<AvitoTokens> {
    const running = inflight.get(tenant);
    if (running !== undefined) return running;
    const promise = work().finally(() => inflight.delete(tenant));
    inflight.set(tenant, promise);
    return promise;
  }

  /** Refreshes unless another caller already replaced `staleAccessToken`. */
  function renew(tenant: number, staleAccessToken: string | undefined): Promise<AvitoTokens> {
    return singleFlight(tenant, async () => {
      const current = await options.tokenStore.get(tenant);
      if (current !== undefined && staleAccessToken !== undefined && current.accessToken !== staleAccessToken) {
        return current;
      }
      let answer: z.infer<typeof TokenResponseSchema>;
      if (current?.refreshToken !== undefined) {
        answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
      } else if (grant === 'client_credentials') {
        answer = await tokenRequest({ grant_type: 'client_credentials' });
      } else {
        throw unauthorized('avito: tenant has no tokens; connect the account (authorization_code) first');
      }
      const next = toTokens(answer, current);
      await options.tokenStore.set(tenant, next);
      return next;
    });
  }

  async function validTokens(tenant: number): Promise<AvitoTokens> {
    const current = await options.tokenStore.get(tenant);
    if (current !== undefined && current.expiresAt - skew > clock.now()) return current;
    return renew(tenant, current?.accessToken);
  }

  /** Authorised call; 401/403 refresh the token once and retry once (the seed's rule). */
  async function api(
    tenant: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const url = joinUrl(baseUrl, path);
    let tokens = await validTokens(tenant);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${tokens.accessToken}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await httpCall(
        url,
        { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
        { provider, fetch: doFetch, clock, timeoutMs: options.timeoutMs, signal },
      );
      if ((response.status === 401 || response.status === 403) && attempt === 0) {
        await response.arrayBuffer().catch(() => undefined);
        tokens = await renew(tenant, tokens.accessToken);
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        await response.arrayBuffer().catch(() => undefined);
        throw unauthorized(
          `avito: ${method} ${path.split('?')[0]} answered ${response.status} after a token refresh`,
          response.status,
        );
      }
      if (!response.ok) throw await errorFromResponse(response, url, { provider, clock });
      return readJson(response, url, provider);
    }
  }

  async function accountId(tenant: number): Promise<number> {
    const tokens = await validTokens(tenant);
    if (tokens.userId !== undefined) return tokens.userId;
    const self = (await api(tenant, 'GET', '/core/v1/accounts/self')) as { id?: unknown };
    const id = Number(self.id);
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new AdapterError({
        provider,
        code: ErrorCodes.upstreamError,
        message: 'avito: accounts/self has no id',
        isRetryable: false,
      });
    }
    const latest = (await options.tokenStore.get(tenant)) ?? tokens;
    await options.tokenStore.set(tenant, { ...latest, userId: id });
    return id;
  }

  async function chatFor(tenant: number, to: string | number): Promise<string> {
    const target = String(to).trim();
    if (!target.startsWith(AVITO_USER_TARGET_PREFIX)) return target;
    const userId = target.slice(AVITO_USER_TARGET_PREFIX.length);
    const chatId = await chatCache.get(tenant, userId);
    if (chatId === undefined) {
      throw new AdapterError({
        provider,
        code: ErrorCodes.missingChat,
        message: 'avito: no chat known for this user yet (no webhook seen)',
        isRetryable: false,
      });
    }
    return chatId;
  }

  function checkSendable(message: TransportMessage): { text: string; warnings: AdapterWarning[] } {
    const warnings: AdapterWarning[] = [];
    const attachments = message.attachments ?? [];
    const text = message.text?.trim() ?? '';
    if (text === '') {
      throw new AdapterError({
        provider,
        code: ErrorCodes.unsupportedAttachments,
        message: 'avito: files cannot be sent through the Messenger API; the message has no text',
        isRetryable: false,
      });
    }
    if (attachments.length > 0) {
      warnings.push({
        code: 'attachments_unsupported',
        message: `avito: ${attachments.length} attachment(s) not sent`,
      });
      if (attachments.some((a) => a.caption !== undefined)) {
        warnings.push({ code: 'captions_unsupported', message: 'avito: attachment captions not sent' });
      }
    }
    if (message.meta?.reply_to !== undefined) {
      warnings.push({
        code: 'reply_to_unsupported',
        message: 'avito: replies are not supported; sent as a plain message',
      });
    }
    if ([...(message.text ?? '')].length > AVITO_MAX_TEXT_LENGTH) {
      throw new AdapterError({
        provider,
        code: ErrorCodes.textTooLong,
        message: `avito: text longer than ${AVITO_MAX_TEXT_LENGTH} characters`,
        isRetryable: false,
      });
    }
    return { text: message.text ?? '', warnings };
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    provider,
    channel: 'avito',
    capabilities: CAPABILITIES,

    async exchangeCode(tenant, code, redirectUri) {
      const params: Record<string, string> = { grant_type: 'authorization_code', code };
      if (redirectUri !== undefined) params.redirect_uri = redirectUri;
      // Never join an unrelated refresh: wait for it, then store the new grant after it.
      await inflight.get(tenant)?.catch(() => undefined);
      // A new authorization may be for another account, so nothing (account id included) is carried over.
      const next = toTokens(await tokenRequest(params));
      await options.tokenStore.set(tenant, next);
      return next;
    },

    async accessToken(tenant) {
      return (await validTokens(tenant)).accessToken;
    },

    accountId,

    async send(message: TransportMessage, sendOptions?: SendOptions): Promise<SendResult> {
      assertChannel(message, 'avito');
      const { text, warnings } = checkSendable(message);
      const chatId = await chatFor(message.tenant, message.to);
      const userId = await accountId(message.tenant);
      const answer = (await api(
        message.tenant,
        'POST',
        `/messenger/v1/accounts/${userId}/chats/${encodeURIComponent(chatId)}/messages`,
        { type: 'text', message: { text } },
        sendOptions?.signal,
      )) as { id?: unknown };
      const result: SendResult = { ok: true, provider, warnings };
      if (typeof answer.id === 'string' || typeof answer.id === 'number') result.providerMessageId = String(answer.id);
      return result;
    },

    async parseWebhook(body: unknown, context?: WebhookContext): Promise<WebhookParseResult> {
      const tenant = context?.tenant;
      if (tenant === undefined)
        throw new MessengerContractError('tenant_required', 'avito: webhook tenant comes from the route');
      const parsed = AvitoWebhookSchema.safeParse(body);
      if (!parsed.success) {
        throw new WebhookPayloadError(
          ErrorCodes.invalidPayload,
          parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
        );
      }
      const event = toMessageIn(parsed.data, tenant);
      if ('ignored' in event) return { events: [], ignored: [event.ignored] };
      await chatCache.set(tenant, event.authorId, event.chatId);
      return { events: [event.message], ignored: [] };
    },

    verifyWebhook: (request: WebhookVerifyRequest) => verifyWithProviderTokens(options.providerTokens, request),

    async subscribe(tenant, url) {
      await api(tenant, 'POST', '/messenger/v3/webhook', { url });
    },
    async unsubscribe(tenant, url) {
      await api(tenant, 'POST', '/messenger/v1/webhook/unsubscribe', { url });
    },
    async listSubscriptions(tenant) {
      const answer = (await api(tenant, 'POST', '/messenger/v1/subscriptions')) as { subscriptions?: unknown };
      if (!Array.isArray(answer.subscriptions)) return [];
      return answer.subscriptions.flatMap((s: unknown) => {
        const item = s as { url?: unknown; version?: unknown };
        if (typeof item.url !== 'string') return [];
        return [typeof item.version === 'string' ? { url: item.url, version: item.version } : { url: item.url }];
      });
    },
  };
}

type Converted =
  | { message: MessageIn; chatId: string; authorId: string }
  | { ignored: { reason: string; id?: string } };

/** Maps one Avito webhook to a MessageIn, or says why it is ignored (echo, system, no chat, unsupported). */
export function avitoWebhookToMessageIn(
  webhook: AvitoWebhook,
  tenant: number,
):
  | MessageIn
  | {
      /** Why the webhook produced no event. */
      ignored: string;
    } {
  const converted = toMessageIn(webhook, tenant);
  return 'ignored' in converted ? { ignored: converted.ignored.reason } : converted.message;
}

function toMessageIn(webhook: AvitoWebhook, tenant: number): Converted {
  const value = webhook.payload.value;
  const id = value?.id ?? webhook.id;
  const ignore = (reason: string): Converted => ({ ignored: id === undefined ? { reason } : { reason, id } });
  if (webhook.payload.type !== 'message' || value === undefined) return ignore('unsupported_event');
  if (value.type === 'system' || value.author_id === '0') return ignore('system');
  // Our own outgoing messages come back as webhooks: the author is the receiving account itself.
  const accountId = value.user_id ?? (value as { account_id?: unknown }).account_id;
  if (accountId !== undefined && value.author_id !== undefined && String(accountId) === value.author_id) {
    return ignore('echo');
  }
  if (value.chat_id === undefined) return ignore('no_chat');
  if (value.author_id === undefined || id === undefined) return ignore('no_author');
  const { text, media } = contentOf(value.type ?? 'text', value.content ?? {});
  if (text === undefined && media.length === 0) return ignore(`unsupported_content:${value.type ?? 'unknown'}`);

  const raw: Record<string, unknown> = {
    event: 'messages.incoming',
    tenant,
    provider: 'avito',
    channel: 'avito',
    message_id: id,
    from: value.author_id,
    peer: value.chat_id,
    chat_id: value.chat_id,
    ts: value.created ?? value.published_at ?? webhook.timestamp ?? 0,
  };
  if (accountId !== undefined) raw.account_user_id = String(accountId);
  if (value.item_id !== undefined) raw.item_id = value.item_id;
  if (text !== undefined) raw.text = text;
  if (media.length > 0) raw.media = media;
  const parsed = parseMessageIn(raw);
  if (!parsed.ok) return ignore('invalid_message');
  return { message: parsed.value, chatId: value.chat_id, authorId: value.author_id };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function contentOf(type: string, content: Record<string, unknown>): { text?: string; media: InboundMedia[] } {
  const media: InboundMedia[] = [];
  const nested = (key: string): Record<string, unknown> => {
    const v = content[key];
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  };
  let text = str(content.text);
  if (type === 'image') {
    const sizes = nested('image').sizes;
    if (typeof sizes === 'object' && sizes !== null) {
      const urls = Object.entries(sizes as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      );
      // Largest rendition: keys look like "1280x960".
      urls.sort((a, b) => area(b[0]) - area(a[0]));
      if (urls[0] !== undefined) media.push({ type: 'image', url: urls[0][1] });
    }
  } else if (type === 'voice') {
    const voiceId = str(nested('voice').voice_id);
    if (voiceId !== undefined) media.push({ type: 'voice', id: voiceId });
  } else if (type === 'link') {
    const link = nested('link');
    text = text ?? str(link.text) ?? str(link.url);
  } else if (type === 'item') {
    const item = nested('item');
    text = text ?? [str(item.title), str(item.item_url) ?? str(item.url)].filter((s) => s !== undefined).join(' ');
    if (text === '') text = undefined;
  } else if (type === 'location') {
    const location = nested('location');
    text = text ?? str(location.text) ?? str(location.title);
  }
  return text === undefined ? { media } : { text, media };
}

function area(size: string): number {
  const [w, h] = size.split('x').map(Number);
  return (w ?? 0) * (h ?? 0) || 0;
}
