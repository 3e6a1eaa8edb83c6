import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryProviderTokenStore } from '../auth.js';
import { AdapterError } from '../errors.js';
import { TransportMessageSchema } from '../schemas.js';
import { avitoMessageWebhook, createFakeAvito } from '../testing/fake-avito.js';
import { ManualClock } from '../testing/manual-clock.js';
import { WebhookPayloadError } from '../webhook-error.js';
import { type AvitoAdapter, createAvitoAdapter } from './avito.js';
import { InMemoryAvitoTokenStore } from './avito-stores.js';

const fake = createFakeAvito();
const server = setupServer(...fake.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const ACCOUNT = 400040070;
let clock: ManualClock;
let store: InMemoryAvitoTokenStore;
let adapter: AvitoAdapter;
const make = (extra: Partial<Parameters<typeof createAvitoAdapter>[0]> = {}) =>
  createAvitoAdapter({
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    tokenStore: store,
    clock,
    providerTokens: new InMemoryProviderTokenStore(() => 'avito-hook-token'),
    ...extra,
  });
const msg = (body: Record<string, unknown>) => TransportMessageSchema.parse({ tenant: 3, channel: 'avito', ...body });

beforeEach(async () => {
  clock = new ManualClock(Date.now());
  store = new InMemoryAvitoTokenStore();
  adapter = make();
  await adapter.exchangeCode(3, fake.issueCode(ACCOUNT));
});

describe('avito adapter: OAuth', () => {
  it('authorization_code stores access and refresh token, then the account id', async () => {
    const tokens = await store.get(3);
    expect(tokens).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(tokens?.expiresAt).toBe(clock.now() + 86_400_000);
    expect(await adapter.accountId(3)).toBe(ACCOUNT);
    expect((await store.get(3))?.userId).toBe(ACCOUNT);
  });

  it('refreshes before expiry and stores the rotated refresh token with the new access token', async () => {
    const before = await store.get(3);
    clock.advance(86_400_000 - 30_000); // inside the 60 s skew
    const access = await adapter.accessToken(3);
    const after = await store.get(3);
    expect(access).not.toBe(before?.accessToken);
    expect(after?.accessToken).toBe(access);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(fake.tokenRequests.at(-1)).toEqual({ grantType: 'refresh_token' });
  });

  it('401 -> refresh once -> retry succeeds', async () => {
    await adapter.accountId(3);
    fake.revokeAccessTokens();
    const before = fake.tokenRequests.length;
    const result = await adapter.send(msg({ to: 'u2i-chat-1', text: 'Спасибо за обращение' }));
    expect(result.ok).toBe(true);
    expect(fake.sent.at(-1)).toEqual({ accountId: ACCOUNT, chatId: 'u2i-chat-1', text: 'Спасибо за обращение' });
    expect(fake.tokenRequests.slice(before)).toEqual([{ grantType: 'refresh_token' }]);
  });

  it('403 also refreshes once and retries', async () => {
    await adapter.accountId(3);
    const refreshes = fake.tokenRequests.length;
    fake.forbidNext(1);
    await adapter.send(msg({ to: 'u2i-chat-1', text: 'x' }));
    expect(fake.tokenRequests.length).toBe(refreshes + 1);
  });

  it('refresh rejected (app revoked) -> non-retryable unauthorized, secrets not in the message', async () => {
    await adapter.accountId(3);
    fake.revokeAll();
    const error = (await adapter.send(msg({ to: 'u2i-chat-1', text: 'x' })).catch((e: unknown) => e)) as AdapterError;
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ code: 'unauthorized', isRetryable: false });
    const tokens = await store.get(3);
    for (const secret of [fake.clientSecret, tokens?.accessToken ?? 'x', tokens?.refreshToken ?? 'x']) {
      expect(error.message).not.toContain(secret);
    }
  });

  it('concurrent 401s share one refresh (a refresh token works only once)', async () => {
    await adapter.accountId(3);
    fake.revokeAccessTokens();
    const refreshesBefore = fake.tokenRequests.length;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => adapter.send(msg({ to: `u2i-c${i}`, text: `m${i}` }))),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.tokenRequests.length - refreshesBefore).toBe(1);
  });

  it('client_credentials mode fetches a token on demand; authorization_code mode without tokens is unauthorized', async () => {
    const ccStore = new InMemoryAvitoTokenStore();
    const cc = make({ tokenStore: ccStore, grant: 'client_credentials' });
    expect(await cc.accountId(9)).toBe(fake.appAccountId);
    expect(fake.tokenRequests.at(-1)).toEqual({ grantType: 'client_credentials' });
    await expect(adapter.accessToken(99)).rejects.toMatchObject({ code: 'unauthorized', isRetryable: false });
  });

  it('token endpoint 5xx is retryable', async () => {
    fake.fail({ status: 503, path: '/token', retryAfter: '3' });
    clock.advance(86_400_000);
    await expect(adapter.accessToken(3)).rejects.toMatchObject({ isRetryable: true, retryAfter: 3 });
  });
});

describe('avito adapter: send', () => {
  it('sends text up to 1000 characters and rejects longer text without calling Avito', async () => {
    const ok = await adapter.send(msg({ to: 'u2i-chat-2', text: 'я'.repeat(1000) }));
    expect(ok.providerMessageId).toMatch(/^msg-/);
    const calls = fake.calls.length;
    await expect(adapter.send(msg({ to: 'u2i-chat-2', text: 'я'.repeat(1001) }))).rejects.toMatchObject({
      code: 'text_too_long',
      isRetryable: false,
    });
    expect(fake.calls.length).toBe(calls);
  });

  it('files, captions and replies are reported, never silently dropped', async () => {
    await expect(
      adapter.send(msg({ to: 'u2i-chat-2', attachments: [{ type: 'file', url: 'https://example.org/a.pdf' }] })),
    ).rejects.toMatchObject({ code: 'unsupported_attachments', isRetryable: false });
    const result = await adapter.send(
      msg({
        to: 'u2i-chat-2',
        text: 'see attached',
        attachments: [{ type: 'image', url: 'https://example.org/a.jpg', caption: 'cap' }],
        meta: { reply_to: 'm-1' },
      }),
    );
    expect(result.warnings.map((w) => w.code)).toEqual([
      'attachments_unsupported',
      'captions_unsupported',
      'reply_to_unsupported',
    ]);
    expect(fake.sent.at(-1)?.text).toBe('see attached');
  });

  it('5xx / 429 are retryable with Retry-After', async () => {
    fake.fail({ status: 429, retryAfter: '12', path: '/messages' });
    await expect(adapter.send(msg({ to: 'u2i-chat-2', text: 'x' }))).rejects.toMatchObject({
      isRetryable: true,
      retryAfter: 12,
      status: 429,
    });
    fake.fail({ status: 400, path: '/messages', body: { error: { code: 400, message: 'chat unavailable' } } });
    await expect(adapter.send(msg({ to: 'u2i-chat-2', text: 'x' }))).rejects.toMatchObject({
      isRetryable: false,
      status: 400,
    });
  });

  it('user:<id> targets resolve through the chat cache filled by webhooks; unknown -> missing_chat', async () => {
    await expect(adapter.send(msg({ to: 'user:123456', text: 'x' }))).rejects.toMatchObject({
      code: 'missing_chat',
      isRetryable: false,
    });
    await adapter.parseWebhook(avitoMessageWebhook({ userId: ACCOUNT, authorId: 123456, chatId: 'u2i-from-hook' }), {
      tenant: 3,
    });
    await adapter.send(msg({ to: 'user:123456', text: 'reply' }));
    expect(fake.sent.at(-1)).toMatchObject({ chatId: 'u2i-from-hook', text: 'reply' });
  });
});

describe('avito adapter: webhooks', () => {
  it('maps a v3 message: user_id is the receiving account, author_id the sender', async () => {
    const body = avitoMessageWebhook({ userId: ACCOUNT, authorId: 123456, chatId: '987654', text: 'Здравствуйте' });
    const { events, ignored } = await adapter.parseWebhook(body, { tenant: 3 });
    expect(ignored).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({
        event: 'messages.incoming',
        tenant: 3,
        provider: 'avito',
        channel: 'avito',
        message_id: 'avito-msg-1',
        from: '123456',
        peer: '987654',
        chat_id: '987654',
        text: 'Здравствуйте',
        ts: 1716748800,
      }),
    ]);
  });

  it('ignores echoes of our own messages and system messages, with a reason', async () => {
    const echo = await adapter.parseWebhook(avitoMessageWebhook({ userId: ACCOUNT, authorId: ACCOUNT, chatId: 'c' }), {
      tenant: 3,
    });
    expect(echo).toEqual({ events: [], ignored: [{ reason: 'echo', id: 'avito-msg-1' }] });
    const system = await adapter.parseWebhook(
      avitoMessageWebhook({ userId: ACCOUNT, authorId: 0, chatId: 'c', type: 'system', content: { text: 'x' } }),
      { tenant: 3 },
    );
    expect(system.ignored[0]?.reason).toBe('system');
    const noChat = await adapter.parseWebhook(avitoMessageWebhook({ userId: ACCOUNT, authorId: 5 }), { tenant: 3 });
    expect(noChat.ignored[0]?.reason).toBe('no_chat');
  });

  it('tolerates the legacy account_id field of the seed example', async () => {
    const seed = {
      id: 'evt-1',
      timestamp: '2024-01-01T00:00:00Z',
      payload: {
        type: 'message',
        value: {
          account_id: 400040070,
          chat_id: '987654',
          type: 'text',
          content: { text: 'Здравствуйте' },
          author_id: 123456,
          published_at: '2024-01-01T00:00:00Z',
        },
      },
    };
    const { events } = await adapter.parseWebhook(seed, { tenant: 3 });
    expect(events[0]).toMatchObject({ message_id: 'evt-1', from: '123456', ts: 1704067200 });
  });

  it('maps images to media and reports unsupported content', async () => {
    const image = await adapter.parseWebhook(
      avitoMessageWebhook({
        userId: ACCOUNT,
        authorId: 7,
        chatId: 'c1',
        type: 'image',
        content: { image: { sizes: { '140x105': 'https://img/s.jpg', '1280x960': 'https://img/l.jpg' } } },
      }),
      { tenant: 3 },
    );
    expect(image.events[0]).toMatchObject({ media: [{ type: 'image', url: 'https://img/l.jpg' }] });
    const call = await adapter.parseWebhook(
      avitoMessageWebhook({ userId: ACCOUNT, authorId: 7, chatId: 'c1', type: 'call', content: { call: {} } }),
      { tenant: 3 },
    );
    expect(call).toEqual({ events: [], ignored: [{ reason: 'unsupported_content:call', id: 'avito-msg-1' }] });
    const body = avitoMessageWebhook({ userId: ACCOUNT, authorId: 7, chatId: 'c1', type: 'deleted' });
    (body.payload as { value: Record<string, unknown> }).value.content = null;
    expect(await adapter.parseWebhook(body, { tenant: 3 })).toEqual({
      events: [],
      ignored: [{ reason: 'unsupported_content:deleted', id: 'avito-msg-1' }],
    });
  });

  it('needs the tenant from the route and rejects malformed bodies', async () => {
    await expect(adapter.parseWebhook(avitoMessageWebhook({ userId: 1, authorId: 2, chatId: 'c' }))).rejects.toThrow(
      /tenant/,
    );
    await expect(adapter.parseWebhook({ payload: 'x' }, { tenant: 3 })).rejects.toBeInstanceOf(WebhookPayloadError);
  });

  it('subscribe / list / unsubscribe', async () => {
    const url = 'https://hub.example.com/webhook/avito?token=t';
    await adapter.subscribe(3, url);
    expect(await adapter.listSubscriptions(3)).toEqual([{ url, version: '3' }]);
    expect(fake.subscriptionsOf(ACCOUNT)).toEqual([url]);
    await adapter.unsubscribe(3, url);
    expect(await adapter.listSubscriptions(3)).toEqual([]);
  });

  it('subscribe 404 (Messenger API not enabled) is a clear non-retryable error', async () => {
    fake.fail({ status: 404, path: '/messenger/v3/webhook', body: { error: { code: 404, message: 'not found' } } });
    await expect(adapter.subscribe(3, 'https://hub.example.com/webhook/avito')).rejects.toMatchObject({
      status: 404,
      isRetryable: false,
    });
  });
});

describe('avito adapter: guards', () => {
  it('refuses a message for another channel', async () => {
    const wrong = TransportMessageSchema.parse({ tenant: 3, channel: 'telegram', to: 'me', text: 'x' });
    await expect(adapter.send(wrong)).rejects.toMatchObject({ code: 'channel_mismatch' });
  });

  it('a re-connect (new code) replaces tokens and forgets the old account id', async () => {
    expect(await adapter.accountId(3)).toBe(ACCOUNT);
    await adapter.exchangeCode(3, fake.issueCode(500));
    expect(await adapter.accountId(3)).toBe(500);
  });
});
