// Examples from docs/guides/messenger-contract.md. They are only typechecked (`pnpm typecheck`), never run.
// In your code import from '@callbridge/messenger-contract' (and '/redis', '/testing'); the relative paths below
// point at the same files the package's `@callbridge/source` export condition resolves to.
import { setupServer } from 'msw/node';
import {
  checkOutboxGuards,
  createAvitoAdapter,
  createPublicKeyAuth,
  createTelegramWorkerAdapter,
  createWebhookHandler,
  createWhatsAppWebAdapter,
  type InboundDedup,
  InMemoryAvitoChatCache,
  InMemoryAvitoTokenStore,
  InMemoryInboundDedup,
  InMemoryProviderTokenStore,
  type MessageIn,
  MessengerContractError,
  normaliseWhatsAppAddress,
  type ProviderAdapter,
  parseMessageIn,
  parseTransportMessage,
  parseWhitelist,
  resolveTelegramTarget,
  sendIdempotencyKey,
  toWorkerResult,
} from '../../packages/messenger-contract/src/index.js';
import { RedisInboundDedup } from '../../packages/messenger-contract/src/redis.js';
import {
  avitoMessageWebhook,
  createFakeAvito,
  createFakeTelegramWorker,
  createFakeWhatsAppWeb,
} from '../../packages/messenger-contract/src/testing/index.js';

/** An ioredis client (`new Redis(url)` from 'ioredis'); the repository root does not depend on ioredis itself. */
export type Redis = ConstructorParameters<typeof RedisInboundDedup>[0];

// --- 1. Validate and normalise ---------------------------------------------------------------------------------

export function validateOutbound(body: unknown) {
  const parsed = parseTransportMessage(body); // zod + recipient resolution, never throws
  if (!parsed.ok) return { status: 422, json: { ok: false, error: parsed.error, issues: parsed.issues } };
  const { message, target } = parsed.value;
  // target: {channel:'whatsapp', address} | {channel:'telegram', target} | {channel:'avito', chatId}
  return { status: 200, json: { ok: true, tenant: message.tenant, target } };
}

export function validateInbound(body: unknown): MessageIn | undefined {
  const result = parseMessageIn(body);
  if (!result.ok) return undefined; // result.error: 'invalid_payload' | 'invalid_qr', result.issues: [{path, message}]
  // messages.incoming: ts in epoch seconds, WhatsApp `from` as digits + `from_jid`, attachments merged into media
  return result.value;
}

export function recipients() {
  return {
    whatsapp: normaliseWhatsAppAddress('8 (999) 123-45-67'), // {kind:'phone', digits:'79991234567', jid:'79991234567@c.us', …}
    wire: normaliseWhatsAppAddress('89991234567', { source: 'wire' }), // stays '89991234567': no RU default on wire input
    telegram: resolveTelegramTarget({ peer_id: 11, telegram_user_id: 22, username: 'x' }), // {kind:'peer_id', id:'11'}
  };
}

// --- 2. Adapters --------------------------------------------------------------------------------------------

export function createAdapters(env: {
  tgAdminToken: string;
  wawebToken: string;
  avitoClientId: string;
  avitoClientSecret: string;
}) {
  const providerTokens = new InMemoryProviderTokenStore(); // one webhook token per tenant (port: get, ensure)
  const telegram = createTelegramWorkerAdapter({
    baseUrl: 'http://tgworker:9000',
    adminToken: env.tgAdminToken, // X-Admin-Token on every call
    providerTokens,
  });
  const whatsapp = createWhatsAppWebAdapter({
    baseUrlFor: (tenant) => `http://waweb-${tenant}:9001`, // one worker container per tenant
    authToken: env.wawebToken,
    providerTokens,
  });
  const avito = createAvitoAdapter({
    clientId: env.avitoClientId,
    clientSecret: env.avitoClientSecret,
    tokenStore: new InMemoryAvitoTokenStore(), // production: a durable AvitoTokenStore (refresh tokens rotate)
    chatCache: new InMemoryAvitoChatCache(), // author -> chat, filled by webhooks; makes `to: 'user:<id>'` work
    providerTokens,
  });
  return { providerTokens, telegram, whatsapp, avito };
}

// --- 3. POST /send: validate, guard, de-duplicate, send -------------------------------------------------------

export function createSendHandler(
  adapters: Record<'telegram' | 'whatsapp' | 'avito', ProviderAdapter>,
  dedup: InboundDedup,
) {
  const guards = {
    enabled: process.env.OUTBOX_ENABLED === 'true',
    whitelist: parseWhitelist(process.env.OUTBOX_WHITELIST), // '' = deny all, '*' = allow all
  };
  return async (body: unknown): Promise<{ status: number; json: unknown }> => {
    const parsed = parseTransportMessage(body);
    if (!parsed.ok) return { status: 422, json: { ok: false, error: parsed.error, issues: parsed.issues } };
    const { message, target } = parsed.value;

    const decision = checkOutboxGuards(guards, { target }); // disabled outbox, then whitelist (then lead)
    if (!decision.allowed) return { status: decision.httpStatus, json: { ok: false, error: decision.code } };

    const key = sendIdempotencyKey(message); // only when the caller sent client_msg_id
    if (key && !(await dedup.claim(key))) return { status: 200, json: { ok: true, duplicate: true } };
    try {
      const result = await adapters[message.channel].send(message);
      // result.warnings: e.g. reply_to_unsupported (WhatsApp), captions_unsupported (Avito)
      return { status: 200, json: toWorkerResult(result) };
    } catch (error) {
      if (key) await dedup.release(key); // let a retry of the same client_msg_id through
      if (error instanceof MessengerContractError && error.isRetryable) {
        return { status: 503, json: toWorkerResult(error) }; // {ok:false, error, retryable:true, retry_after?}
      }
      return { status: 502, json: toWorkerResult(error) };
    }
  };
}

// --- 4. POST /webhook: authenticate, validate, de-duplicate, enqueue -------------------------------------------

export function createWebhookEndpoint(
  adapter: ProviderAdapter,
  redis: Redis,
  enqueue: (event: MessageIn) => Promise<void>,
) {
  const handle = createWebhookHandler({
    adapter,
    dedup: new RedisInboundDedup(redis, { prefix: 'inbox:dedup:', ttlMs: 86_400_000 }), // shared by all instances
    onEvent: enqueue, // throw -> 503 enqueue_failed, and the de-dup claim is released for the provider's retry
    logger: console,
  });
  // Express: const { status, body } = await handle({ body: req.body, query: req.query, headers: req.headers });
  //          res.status(status).json(body);   (Avito: also `tenant` from the route /webhook/avito/:tenant)
  return handle; // every contract outcome is a {status, body}; only an unexpected adapter bug throws
}

export async function webhookUrlFor(providerTokens: InMemoryProviderTokenStore, tenant: number) {
  const token = await providerTokens.ensure(tenant); // created once, then the same token
  return `https://hub.example.com/webhook?token=${encodeURIComponent(token)}`; // or header X-Provider-Token
}

export function createPublicRouteAuth() {
  // Throws PublicKeyConfigError at start-up when PUBLIC_KEY equals ADMIN_TOKEN.
  const publicAuth = createPublicKeyAuth({
    publicKey: process.env.PUBLIC_KEY,
    adminToken: process.env.ADMIN_TOKEN ?? '',
    logger: console,
  });
  return (k: string | undefined) => publicAuth.check(k); // {ok:true, via} | {ok:false, httpStatus:401, error:'invalid_key'}
}

// --- 5. Tests: the msw fakes of the three upstreams -----------------------------------------------------------

export async function adaptersAgainstFakes() {
  const tg = createFakeTelegramWorker();
  const wa = createFakeWhatsAppWeb({ tenants: [2] });
  const fakeAvito = createFakeAvito();
  const server = setupServer(...tg.handlers, ...wa.handlers, ...fakeAvito.handlers);
  server.listen({ onUnhandledRequest: 'error' }); // vitest: beforeAll / afterEach(resetHandlers) / afterAll(close)
  try {
    const providerTokens = new InMemoryProviderTokenStore(() => 'hook-token');
    const telegram = createTelegramWorkerAdapter({ baseUrl: tg.baseUrl, adminToken: tg.adminToken, providerTokens });
    const whatsapp = createWhatsAppWebAdapter({ baseUrlFor: wa.baseUrlFor, authToken: wa.authToken, providerTokens });
    const avito = createAvitoAdapter({
      clientId: fakeAvito.clientId,
      clientSecret: fakeAvito.clientSecret,
      tokenStore: new InMemoryAvitoTokenStore(),
      providerTokens,
    });

    await telegram.send({ tenant: 1, channel: 'telegram', to: 'someuser', text: 'pong' });

    wa.scan(2); // the session becomes ready, as if the QR code had been scanned
    wa.fail({ status: 503, retryAfter: '5', times: 1, path: '/send' }); // one scripted fault
    const failed = await whatsapp
      .send({ tenant: 2, channel: 'whatsapp', to: '89991234567', text: 'hi' })
      .catch((e) => e);
    // failed: AdapterError, isRetryable true, retryAfter 5
    await whatsapp.send({ tenant: 2, channel: 'whatsapp', to: '89991234567', text: 'hi' }); // wa.sent[0].to '79991234567@c.us'

    await avito.exchangeCode(3, fakeAvito.issueCode(400040070));
    const webhook = avitoMessageWebhook({
      userId: 400040070,
      authorId: 555,
      chatId: 'u2i-chat-1',
      text: 'Здравствуйте',
    });
    const { events } = await avito.parseWebhook(webhook, { tenant: 3 });
    await avito.send({ tenant: 3, channel: 'avito', to: 'user:555', text: 'Спасибо за обращение' }); // via the chat cache

    return { failed, telegramSent: tg.sent, whatsappSent: wa.sent, events, avitoSent: fakeAvito.sent };
  } finally {
    server.close();
  }
}

export async function webhookDuplicateIsDropped() {
  const providerTokens = new InMemoryProviderTokenStore(() => 'hook-token');
  const whatsapp = createWhatsAppWebAdapter({ baseUrlFor: () => 'http://waweb.test', authToken: 't', providerTokens });
  await providerTokens.ensure(7);
  const queued: MessageIn[] = [];
  const handle = createWebhookHandler({
    adapter: whatsapp,
    dedup: new InMemoryInboundDedup(),
    onEvent: async (event) => {
      queued.push(event);
    },
  });
  const body = {
    event: 'messages.incoming',
    tenant: 7,
    channel: 'whatsapp',
    message_id: 'A1',
    from: '+79991234567',
    text: 'hi',
    ts: 1716748800,
  };
  const first = await handle({ body, query: { token: 'hook-token' } }); // 200 {ok:true, queued:true}
  const second = await handle({ body, query: { token: 'hook-token' } }); // 200 {ok:true, queued:false, duplicate:true}
  const foreign = await handle({ body, query: { token: 'wrong' } }); // 401 provider_token_unauthorized
  return { first, second, foreign, queued };
}
