import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toWorkerResult } from '../adapter.js';
import { InMemoryProviderTokenStore } from '../auth.js';
import { AdapterError } from '../errors.js';
import { TransportMessageSchema } from '../schemas.js';
import { createFakeTelegramWorker } from '../testing/fake-telegram-worker.js';
import { WebhookPayloadError } from '../webhook-error.js';
import { createTelegramWorkerAdapter, isTelegramLoginTransitionAllowed } from './telegram-worker.js';

const fake = createFakeTelegramWorker({ unknownPeers: [999] });
const server = setupServer(...fake.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const tokens = new InMemoryProviderTokenStore(() => 'tg-provider-token');
const adapter = createTelegramWorkerAdapter({
  baseUrl: fake.baseUrl,
  adminToken: fake.adminToken,
  providerTokens: tokens,
});
const msg = (body: Record<string, unknown>) =>
  TransportMessageSchema.parse({ tenant: 1, channel: 'telegram', ...body });

describe('telegram worker adapter: send', () => {
  it('sends with X-Admin-Token, the resolved target and reply_to', async () => {
    const result = await adapter.send(msg({ to: 'someuser', text: 'pong', meta: { reply_to: '12345' } }));
    expect(result).toMatchObject({ ok: true, provider: 'telegram', warnings: [] });
    expect(result.providerMessageId).toMatch(/^\d+$/);
    expect(fake.sent.at(-1)).toEqual({ tenant: 1, to: 'someuser', text: 'pong', reply_to: '12345' });
  });

  it('passes numeric ids as numbers, "me", attachments with captions and client_msg_id', async () => {
    await adapter.send(msg({ to: 100200300, text: 'ping' }));
    expect(fake.sent.at(-1)?.to).toBe(100200300);
    await adapter.send(
      msg({
        to: 'me',
        attachments: [{ type: 'file', url: 'https://example.org/f.pdf', name: 'f.pdf', caption: 'cap' }],
        client_msg_id: 'c-1',
      }),
    );
    expect(fake.sent.at(-1)).toMatchObject({ to: 'me', client_msg_id: 'c-1', attachments: [{ caption: 'cap' }] });
  });

  it("maps a worker's {ok:false,error} to a non-retryable AdapterError", async () => {
    const error = await adapter.send(msg({ to: 999, text: 'x' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ code: 'peer_not_found', isRetryable: false });
    expect(toWorkerResult(error)).toEqual({ ok: false, error: 'peer_not_found', retryable: false });
  });

  it('5xx and network failures are retryable tg_unavailable; Retry-After is kept', async () => {
    fake.fail({ status: 503, retryAfter: '7', path: '/send' });
    await expect(adapter.send(msg({ to: 1, text: 'x' }))).rejects.toMatchObject({
      code: 'tg_unavailable',
      isRetryable: true,
      retryAfter: 7,
      status: 503,
    });
    fake.fail({ status: 0, network: true, path: '/send' });
    await expect(adapter.send(msg({ to: 1, text: 'x' }))).rejects.toMatchObject({
      code: 'tg_unavailable',
      isRetryable: true,
    });
  });

  it('a wrong admin token is a non-retryable 401 and the token is not in the error', async () => {
    const bad = createTelegramWorkerAdapter({ baseUrl: fake.baseUrl, adminToken: 'wrong-admin-token' });
    const error = (await bad.send(msg({ to: 1, text: 'x' })).catch((e: unknown) => e)) as AdapterError;
    expect(error).toMatchObject({ status: 401, isRetryable: false });
    expect(`${error.message} ${String(error)}`).not.toContain('wrong-admin-token');
  });
});

describe('telegram worker adapter: QR login', () => {
  it('walks need_qr -> need_2fa -> authorized', async () => {
    const started = await adapter.session.start(5);
    expect(started).toMatchObject({ state: 'need_qr', ready: false, qrAvailable: true });
    const qrId = started.qrId ?? '';
    const png = await adapter.session.qr(5, qrId);
    expect(png.contentType).toBe('image/png');
    expect([...png.body.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

    fake.scan(5, true);
    expect(await adapter.session.status(5)).toMatchObject({ state: 'need_2fa', needs2fa: true });
    await expect(adapter.session.submitPassword(5, 'wrong')).rejects.toMatchObject({
      code: 'bad_password',
      status: 401,
    });
    expect(await adapter.session.submitPassword(5, 'fake-2fa-password')).toMatchObject({
      state: 'authorized',
      ready: true,
    });
    await expect(adapter.session.start(5)).rejects.toMatchObject({ code: 'already_authorized', status: 409 });
    await expect(adapter.session.submitPassword(5, 'x')).rejects.toMatchObject({ code: 'not_waiting_2fa' });
    await adapter.session.logout(5);
    expect(fake.state(5)).toBe('need_qr');
  });

  it('expired and unknown QR codes', async () => {
    const started = await adapter.session.start(6);
    await expect(adapter.session.qr(6, 'qr-unknown')).rejects.toMatchObject({ code: 'qr_not_found', status: 404 });
    fake.expire(6);
    expect(await adapter.session.status(6)).toMatchObject({ state: 'failed' });
    await expect(adapter.session.qr(6, started.qrId)).rejects.toMatchObject({ code: 'qr_expired', status: 410 });
    // failed -> a new start issues a new QR
    const again = await adapter.session.start(6);
    expect(again.state).toBe('need_qr');
    expect(again.qrId).not.toBe(started.qrId);
  });

  it('derives the state from authorized / needs_2fa / qr_id when the worker omits `state`', async () => {
    const answers: Record<string, unknown>[] = [
      { authorized: true },
      { needs_2fa: true },
      { qr_id: 'q-1', qr_url: '/auth/qr.png?qr_id=q-1' },
      {},
    ];
    server.use(http.get(`${fake.baseUrl}/auth/status`, () => HttpResponse.json(answers.shift())));
    expect(await adapter.session.status(1)).toMatchObject({ state: 'authorized', ready: true });
    expect(await adapter.session.status(1)).toMatchObject({ state: 'need_2fa', needs2fa: true });
    expect(await adapter.session.status(1)).toMatchObject({ state: 'need_qr', qrAvailable: true, qrId: 'q-1' });
    expect(await adapter.session.status(1)).toMatchObject({ state: 'failed', ready: false });
  });

  it('worker down -> tg_unavailable', async () => {
    fake.fail({ status: 502, path: '/auth/status' });
    await expect(adapter.session.status(1)).rejects.toMatchObject({ code: 'tg_unavailable', isRetryable: true });
  });

  it('state machine', () => {
    expect(isTelegramLoginTransitionAllowed('need_qr', 'need_2fa')).toBe(true);
    expect(isTelegramLoginTransitionAllowed('need_2fa', 'authorized')).toBe(true);
    expect(isTelegramLoginTransitionAllowed('need_qr', 'failed')).toBe(true);
    expect(isTelegramLoginTransitionAllowed('failed', 'need_qr')).toBe(true);
    expect(isTelegramLoginTransitionAllowed('failed', 'authorized')).toBe(false);
    expect(isTelegramLoginTransitionAllowed('need_2fa', 'need_qr')).toBe(false);
  });
});

describe('telegram worker adapter: webhook', () => {
  it('parses the synthetic inbound (tenant, text, telegram_user_id) and fills peer', async () => {
    const { events } = await adapter.parseWebhook({
      tenant: 1,
      text: 'hi',
      telegram_user_id: 555,
      message_id: 9,
      ts: 1716748800,
    });
    expect(events).toEqual([
      expect.objectContaining({ event: 'messages.incoming', channel: 'telegram', provider: 'telegram', peer: '555' }),
    ]);
  });

  it('rejects a payload without text or media', async () => {
    await expect(adapter.parseWebhook({ tenant: 1, telegram_user_id: 5, message_id: 1, ts: 1 })).rejects.toBeInstanceOf(
      WebhookPayloadError,
    );
  });

  it('verifies the provider token', async () => {
    await tokens.ensure(1);
    expect(await adapter.verifyWebhook({ tenant: 1, query: { token: 'tg-provider-token' } })).toBe(true);
    expect(await adapter.verifyWebhook({ tenant: 1, headers: { 'x-provider-token': 'nope' } })).toBe(false);
    expect(await adapter.verifyWebhook({ tenant: 2, query: { token: 'tg-provider-token' } })).toBe(false);
  });
});
