import { HttpResponse, http, type RequestHandler } from 'msw';
import { AVITO_API_URL } from '../adapters/avito.js';
import { bodyOf, type Fault, FaultQueue, type RecordedCall } from './faults.js';

/** Client id the fake accepts by default. */
export const FAKE_AVITO_CLIENT_ID = 'fake-avito-client-id';
/** Client secret the fake accepts by default (a test value, not a secret). */
export const FAKE_AVITO_CLIENT_SECRET = 'fake-avito-client-secret';

/** Options of createFakeAvito. */
export interface FakeAvitoOptions {
  /** Base URL the handlers intercept (default AVITO_API_URL). */
  baseUrl?: string;
  /** Client id /token accepts (default FAKE_AVITO_CLIENT_ID). */
  clientId?: string;
  /** Client secret /token accepts (default FAKE_AVITO_CLIENT_SECRET). */
  clientSecret?: string;
  /** Account of the application itself (client_credentials). */
  appAccountId?: number;
  /** Access token lifetime in seconds (expires_in). */
  expiresIn?: number;
}

interface Grant {
  accountId: number;
}

/** msw fake of the Avito API: /token (3 grants, rotating refresh tokens), accounts/self, send, webhook subscriptions. */
export interface FakeAvito {
  /** Base URL the handlers intercept. */
  baseUrl: string;
  /** Client id /token accepts. */
  clientId: string;
  /** Client secret /token accepts. */
  clientSecret: string;
  /** Account id of the application itself (client_credentials grant). */
  appAccountId: number;
  /** msw handlers to install (`setupServer(...fake.handlers)` or `server.use`). */
  handlers: RequestHandler[];
  /** Messages accepted by the send endpoint, in order. */
  sent: {
    /** Account that sent the message. */
    accountId: number;
    /** Chat it was sent to. */
    chatId: string;
    /** Message text. */
    text: string;
  }[];
  /** Every request the fake saw, in order (secrets not recorded). */
  calls: RecordedCall[];
  /** Grant types seen by /token, in order. */
  tokenRequests: {
    /** The `grant_type` form field. */
    grantType: string;
  }[];
  /** An OAuth code the user would bring back from /connect/avito for this account. */
  issueCode(accountId: number): string;
  /** Invalidates every access token (as if expired server-side): the next call answers 401. */
  revokeAccessTokens(): void;
  /** Invalidates refresh tokens too (the user revoked the app). */
  revokeAll(): void;
  /** The next `times` authorised calls answer 403. */
  forbidNext(times?: number): void;
  /** Scripts an upstream failure for the next matching calls. */
  fail(fault: Fault): void;
  /** Webhook URLs the account is subscribed to. */
  subscriptionsOf(accountId: number): string[];
}

/** Creates a fresh FakeAvito; install its `handlers` in an msw server. */
export function createFakeAvito(options: FakeAvitoOptions = {}): FakeAvito {
  const baseUrl = options.baseUrl ?? AVITO_API_URL;
  const clientId = options.clientId ?? FAKE_AVITO_CLIENT_ID;
  const clientSecret = options.clientSecret ?? FAKE_AVITO_CLIENT_SECRET;
  const appAccountId = options.appAccountId ?? 100_000_001;
  const expiresIn = options.expiresIn ?? 86_400;
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const codes = new Map<string, Grant>();
  const subscriptions = new Map<number, Set<string>>();
  const faults = new FaultQueue();
  const calls: RecordedCall[] = [];
  const sent: { accountId: number; chatId: string; text: string }[] = [];
  const tokenRequests: { grantType: string }[] = [];
  let counter = 0;
  let forbidden = 0;

  const issue = (grant: Grant, withRefresh: boolean) => {
    const access = `at-${++counter}`;
    accessTokens.set(access, grant);
    const body: Record<string, unknown> = { access_token: access, expires_in: expiresIn, token_type: 'Bearer' };
    if (withRefresh) {
      const refresh = `rt-${counter}`;
      refreshTokens.set(refresh, grant);
      body.refresh_token = refresh;
    }
    return body;
  };

  async function authorised(
    request: Request,
  ): Promise<{ response?: Response; grant?: Grant; body: unknown; url: URL }> {
    const url = new URL(request.url);
    const body = await bodyOf(request);
    calls.push({ method: request.method, path: url.pathname, body });
    const fault = faults.take(url.pathname);
    if (fault) return { response: fault, body, url };
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    const grant = accessTokens.get(token);
    if (grant === undefined) {
      return {
        response: HttpResponse.json({ error: { code: 401, message: 'Unauthorized' } }, { status: 401 }),
        body,
        url,
      };
    }
    if (forbidden > 0) {
      forbidden -= 1;
      return {
        response: HttpResponse.json({ error: { code: 403, message: 'Forbidden' } }, { status: 403 }),
        body,
        url,
      };
    }
    return { grant, body, url };
  }

  const handlers: RequestHandler[] = [
    http.post(`${baseUrl}/token`, async ({ request }) => {
      const url = new URL(request.url);
      const form = new URLSearchParams(await request.text());
      const grantType = form.get('grant_type') ?? '';
      calls.push({ method: 'POST', path: url.pathname, body: { grant_type: grantType } });
      tokenRequests.push({ grantType });
      const fault = faults.take(url.pathname);
      if (fault) return fault;
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return HttpResponse.json({ error: 'invalid_client' }, { status: 400 });
      }
      if (grantType === 'client_credentials') return HttpResponse.json(issue({ accountId: appAccountId }, false));
      if (grantType === 'authorization_code') {
        const grant = codes.get(form.get('code') ?? '');
        if (grant === undefined) return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 });
        codes.delete(form.get('code') ?? '');
        return HttpResponse.json(issue(grant, true));
      }
      if (grantType === 'refresh_token') {
        const old = form.get('refresh_token') ?? '';
        const grant = refreshTokens.get(old);
        if (grant === undefined) return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 });
        // Rotation: a refresh token works once.
        refreshTokens.delete(old);
        return HttpResponse.json(issue(grant, true));
      }
      return HttpResponse.json({ error: 'unsupported_grant_type' }, { status: 400 });
    }),
    http.get(`${baseUrl}/core/v1/accounts/self`, async ({ request }) => {
      const { response, grant } = await authorised(request);
      if (response) return response;
      return HttpResponse.json({ id: grant?.accountId, name: 'Fake shop', email: 'shop@example.org' });
    }),
    http.post(`${baseUrl}/messenger/v1/accounts/:userId/chats/:chatId/messages`, async ({ request, params }) => {
      const { response, grant, body } = await authorised(request);
      if (response) return response;
      if (Number(params.userId) !== grant?.accountId) {
        return HttpResponse.json({ error: { code: 403, message: 'Forbidden' } }, { status: 403 });
      }
      const message = body as { type?: unknown; message?: { text?: unknown } };
      const text = message.message?.text;
      if (message.type !== 'text' || typeof text !== 'string' || text === '' || [...text].length > 1000) {
        return HttpResponse.json({ error: { code: 400, message: 'bad request' } }, { status: 400 });
      }
      sent.push({ accountId: grant.accountId, chatId: String(params.chatId), text });
      return HttpResponse.json({
        id: `msg-${++counter}`,
        content: { text },
        created: 1_716_748_800,
        direction: 'out',
        type: 'text',
      });
    }),
    http.post(`${baseUrl}/messenger/v3/webhook`, async ({ request }) => {
      const { response, grant, body } = await authorised(request);
      if (response || grant === undefined) return response;
      const set = subscriptions.get(grant.accountId) ?? new Set<string>();
      set.add(String((body as { url?: unknown }).url));
      subscriptions.set(grant.accountId, set);
      return HttpResponse.json({ ok: true });
    }),
    http.post(`${baseUrl}/messenger/v1/webhook/unsubscribe`, async ({ request }) => {
      const { response, grant, body } = await authorised(request);
      if (response || grant === undefined) return response;
      subscriptions.get(grant.accountId)?.delete(String((body as { url?: unknown }).url));
      return HttpResponse.json({ ok: true });
    }),
    http.post(`${baseUrl}/messenger/v1/subscriptions`, async ({ request }) => {
      const { response, grant } = await authorised(request);
      if (response || grant === undefined) return response;
      return HttpResponse.json({
        subscriptions: [...(subscriptions.get(grant.accountId) ?? [])].map((url) => ({ url, version: '3' })),
      });
    }),
  ];

  return {
    baseUrl,
    clientId,
    clientSecret,
    appAccountId,
    handlers,
    sent,
    calls,
    tokenRequests,
    /** An OAuth code the user would bring back from /connect/avito for this account. */
    issueCode(accountId: number): string {
      const code = `code-${++counter}`;
      codes.set(code, { accountId });
      return code;
    },
    /** Invalidates every access token (as if expired server-side): the next call answers 401. */
    revokeAccessTokens() {
      accessTokens.clear();
    },
    /** Invalidates refresh tokens too (the user revoked the app). */
    revokeAll() {
      accessTokens.clear();
      refreshTokens.clear();
    },
    /** The next `times` authorised calls answer 403. */
    forbidNext(times = 1) {
      forbidden += times;
    },
    fail(fault: Fault) {
      faults.push(fault);
    },
    subscriptionsOf(accountId: number): string[] {
      return [...(subscriptions.get(accountId) ?? [])];
    },
  };
}

/** Fields of a test Avito webhook; everything but the two accounts has a default. */
export interface AvitoWebhookInput {
  /** Receiving account (payload.value.user_id). */
  userId: number;
  /** Sender (payload.value.author_id); equal to `userId` for an echo of our own message. */
  authorId: number;
  /** Chat id; omitted from the body when not given. */
  chatId?: string;
  /** Message id (default `avito-msg-1`). */
  id?: string;
  /** Message type (default `text`). */
  type?: string;
  /** Text of the default content (default a Russian greeting); ignored when `content` is given. */
  text?: string;
  /** Raw `content` object. */
  content?: Record<string, unknown>;
  /** Creation time, epoch seconds (default 1 716 748 800). */
  created?: number;
}

/** Builds an Avito v3 messenger webhook body, shaped like the real one. */
export function avitoMessageWebhook(input: AvitoWebhookInput): Record<string, unknown> {
  const value: Record<string, unknown> = {
    id: input.id ?? 'avito-msg-1',
    user_id: input.userId,
    author_id: input.authorId,
    created: input.created ?? 1_716_748_800,
    type: input.type ?? 'text',
    chat_type: 'u2i',
    content: input.content ?? { text: input.text ?? 'Здравствуйте' },
    item_id: 4_000_000_001,
    published_at: '2024-05-26T18:40:00Z',
  };
  if (input.chatId !== undefined) value.chat_id = input.chatId;
  return {
    id: `evt-${value.id as string}`,
    version: 'v3.0.0',
    timestamp: input.created ?? 1_716_748_800,
    payload: { type: 'message', value },
  };
}
