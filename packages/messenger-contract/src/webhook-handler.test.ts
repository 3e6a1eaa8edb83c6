import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAvitoAdapter } from './adapters/avito.js';
import { InMemoryAvitoTokenStore } from './adapters/avito-stores.js';
import { createWhatsAppWebAdapter } from './adapters/whatsapp-web.js';
import { InMemoryProviderTokenStore } from './auth.js';
import { InMemoryInboundDedup } from './dedup.js';
import type { MessageIn } from './schemas.js';
import { avitoMessageWebhook, createFakeAvito } from './testing/fake-avito.js';
import { createWebhookHandler } from './webhook-handler.js';

const fakeAvito = createFakeAvito();
const server = setupServer(...fakeAvito.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

let n = 0;
const tokens = new InMemoryProviderTokenStore(() => `provider-token-${++n}`);
const whatsapp = createWhatsAppWebAdapter({
  baseUrlFor: () => 'http://unused.test',
  authToken: 'x',
  providerTokens: tokens,
});

const incoming = (id: string, tenant = 7) => ({
  event: 'messages.incoming',
  tenant,
  channel: 'whatsapp',
  message_id: id,
  from: '79991234567',
  text: 'Привет!',
  ts: 1716748800,
});

describe('createWebhookHandler', () => {
  it("answers the seed's bodies and de-duplicates by (tenant, provider, message_id)", async () => {
    const token = await tokens.ensure(7);
    const events: MessageIn[] = [];
    const handle = createWebhookHandler({
      adapter: whatsapp,
      dedup: new InMemoryInboundDedup(),
      onEvent: async (e) => {
        events.push(e);
      },
    });
    const query = { token };
    expect(await handle({ body: incoming('A'), query })).toEqual({ status: 200, body: { ok: true, queued: true } });
    expect(await handle({ body: incoming('A'), query })).toEqual({
      status: 200,
      body: { ok: true, queued: false, duplicate: true },
    });
    expect(await handle({ body: { event: 'ready', tenant: 7, channel: 'whatsapp' }, query })).toEqual({
      status: 200,
      body: { ok: true, queued: true },
    });
    expect(
      await handle({ body: { provider: 'whatsapp', event: 'qr', tenant: 7, qr_id: '1', svg: '<svg/>' }, query }),
    ).toEqual({ status: 200, body: { ok: true, queued: false, event: 'qr' } });
    expect(events.map((e) => e.event)).toEqual(['messages.incoming', 'ready', 'qr']);
  });

  it('401 without or with a foreign token; 422 for schema errors and invalid_qr', async () => {
    const token7 = await tokens.ensure(7);
    await tokens.ensure(8);
    const onEvent = vi.fn(async () => {});
    const handle = createWebhookHandler({ adapter: whatsapp, onEvent });
    expect(await handle({ body: incoming('B') })).toEqual({
      status: 401,
      body: { ok: false, error: 'provider_token_unauthorized' },
    });
    // tenant 7's token cannot post events for tenant 8
    expect((await handle({ body: incoming('B', 8), query: { token: token7 } })).status).toBe(401);
    const headers = { 'X-Provider-Token': token7 };
    expect(await handle({ body: { ...incoming('C'), text: undefined }, headers })).toMatchObject({
      status: 422,
      body: { ok: false, error: 'invalid_payload' },
    });
    expect(await handle({ body: { event: 'qr', tenant: 7, qr_id: '1' }, headers })).toMatchObject({
      status: 422,
      body: { error: 'invalid_qr' },
    });
    expect(await handle({ body: { text: 'no tenant' }, headers })).toMatchObject({ status: 422 });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('a failed enqueue answers 503 and releases the claim so the retry is processed', async () => {
    const token = await tokens.ensure(7);
    let fail = true;
    const onEvent = vi.fn(async () => {
      if (fail) throw new Error('redis down');
    });
    const handle = createWebhookHandler({ adapter: whatsapp, dedup: new InMemoryInboundDedup(), onEvent });
    expect(await handle({ body: incoming('D'), query: { token } })).toEqual({
      status: 503,
      body: { ok: false, error: 'enqueue_failed' },
    });
    fail = false;
    expect(await handle({ body: incoming('D'), query: { token } })).toMatchObject({
      status: 200,
      body: { queued: true },
    });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });

  it('an unavailable token store answers 503 auth_unavailable, not an exception', async () => {
    const warn = vi.fn();
    const onEvent = vi.fn(async () => {});
    const adapter = createWhatsAppWebAdapter({
      baseUrlFor: () => 'http://unused.test',
      authToken: 'x',
      providerTokens: {
        get: async () => {
          throw new Error('pg down');
        },
      },
    });
    const handle = createWebhookHandler({ adapter, onEvent, logger: { warn } });
    expect(await handle({ body: incoming('G'), query: { token: 't' } })).toEqual({
      status: 503,
      body: { ok: false, error: 'auth_unavailable' },
    });
    expect(onEvent).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ tenant: 7 }), 'webhook_auth_failed');
  });

  it('an unavailable de-dup store answers 503 dedup_unavailable without handing the event on', async () => {
    const token = await tokens.ensure(7);
    const warn = vi.fn();
    const onEvent = vi.fn(async () => {});
    const broken = {
      claim: async () => {
        throw new Error('ECONNREFUSED');
      },
      release: async () => {},
    };
    const handle = createWebhookHandler({ adapter: whatsapp, dedup: broken, onEvent, logger: { warn } });
    expect(await handle({ body: incoming('E'), query: { token } })).toEqual({
      status: 503,
      body: { ok: false, error: 'dedup_unavailable' },
    });
    expect(onEvent).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ tenant: 7, error: 'Error' }), 'webhook_dedup_failed');
  });

  it('a failed release after a failed enqueue is logged, and the answer is still 503', async () => {
    const token = await tokens.ensure(7);
    const warn = vi.fn();
    const dedup = new InMemoryInboundDedup();
    dedup.release = async () => {
      throw new Error('redis down');
    };
    const handle = createWebhookHandler({
      adapter: whatsapp,
      dedup,
      logger: { warn },
      onEvent: async () => {
        throw new Error('queue down');
      },
    });
    expect(await handle({ body: incoming('F'), query: { token } })).toMatchObject({ status: 503 });
    expect(warn.mock.calls.map((call) => call[1])).toEqual(['webhook_release_failed', 'webhook_enqueue_failed']);
  });

  it('Avito: tenant from the route, echoes reported as ignored', async () => {
    const avitoTokens = new InMemoryProviderTokenStore(() => 'avito-route-token');
    await avitoTokens.ensure(3);
    const avito = createAvitoAdapter({
      clientId: fakeAvito.clientId,
      clientSecret: fakeAvito.clientSecret,
      tokenStore: new InMemoryAvitoTokenStore(),
      providerTokens: avitoTokens,
    });
    const events: MessageIn[] = [];
    const handle = createWebhookHandler({ adapter: avito, onEvent: async (e) => void events.push(e) });
    const query = { token: 'avito-route-token' };
    const body = avitoMessageWebhook({ userId: 1, authorId: 2, chatId: 'c-1' });
    expect(await handle({ tenant: 3, body, query })).toEqual({ status: 200, body: { ok: true, queued: true } });
    expect(events[0]).toMatchObject({ tenant: 3, chat_id: 'c-1' });
    const echo = avitoMessageWebhook({ userId: 1, authorId: 1, chatId: 'c-1' });
    expect(await handle({ tenant: 3, body: echo, query })).toEqual({
      status: 200,
      body: { ok: true, queued: false, ignored: ['echo'] },
    });
    expect((await handle({ tenant: 4, body, query })).status).toBe(401);
  });
  it('never throws on an unexpected parse error: TypeError -> 422 invalid_payload, other errors -> 500 logged', async () => {
    const warn = vi.fn();
    const onEvent = vi.fn(async () => {});
    const adapterThrowing = (error: unknown) =>
      ({
        provider: 'whatsapp-web',
        verifyWebhook: async () => true,
        parseWebhook: async () => {
          throw error;
        },
      }) as unknown as Parameters<typeof createWebhookHandler>[0]['adapter'];
    const input = createWebhookHandler({
      adapter: adapterThrowing(new TypeError("Cannot read properties of undefined (reading 'x')")),
      onEvent,
      logger: { warn },
    });
    const answer = await input({ tenant: 7, body: { tenant: 7 } });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ ok: false, error: 'invalid_payload' });
    const bug = createWebhookHandler({ adapter: adapterThrowing(new Error('boom')), onEvent, logger: { warn } });
    expect(await bug({ tenant: 7, body: { tenant: 7 } })).toEqual({
      status: 500,
      body: { ok: false, error: 'internal_error' },
    });
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ tenant: 7, error: 'Error' }), 'webhook_parse_failed');
    expect(onEvent).not.toHaveBeenCalled();
  });
});
