import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toWorkerResult } from '../adapter.js';
import { InMemoryProviderTokenStore } from '../auth.js';
import { InvalidTargetError } from '../errors.js';
import { TransportMessageSchema } from '../schemas.js';
import { createFakeWhatsAppWeb } from '../testing/fake-whatsapp-web.js';
import { WebhookPayloadError } from '../webhook-error.js';
import { createWhatsAppWebAdapter } from './whatsapp-web.js';

const fake = createFakeWhatsAppWeb({ tenants: [1, 2] });
const server = setupServer(...fake.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const tokens = new InMemoryProviderTokenStore(() => 'wa-provider-token');
const adapter = createWhatsAppWebAdapter({
  baseUrlFor: (tenant) => fake.baseUrlFor(tenant),
  authToken: fake.authToken,
  providerTokens: tokens,
});
const msg = (tenant: number, body: Record<string, unknown>) =>
  TransportMessageSchema.parse({ tenant, channel: 'whatsapp', ...body });

describe('whatsapp web adapter: session', () => {
  it('start (with webhook_url) -> QR svg -> scan -> ready -> logout, on the tenant’s own container', async () => {
    const started = await adapter.session.start(1, { webhookUrl: 'http://app:8000/webhook?token=t' });
    expect(started).toMatchObject({ ready: false, qrAvailable: true, state: 'need_qr' });
    expect(fake.webhookUrl(1)).toBe('http://app:8000/webhook?token=t');
    const qr = await adapter.session.qr(1);
    expect(qr.contentType).toBe('image/svg+xml');
    expect(new TextDecoder().decode(qr.body)).toContain(`data-qr="${started.qrId}"`);
    fake.scan(1);
    expect(await adapter.session.status(1)).toMatchObject({ ready: true, state: 'ready' });
    expect(fake.calls.at(-1)?.path).toBe('waweb-1.test:9001/session/1/status');
    await adapter.session.logout(1);
    expect(await adapter.session.status(1)).toMatchObject({ ready: false, qrAvailable: false });
  });

  it('qr.svg before start is 404 qr_not_found', async () => {
    await expect(adapter.session.qr(2)).rejects.toMatchObject({
      code: 'qr_not_found',
      status: 404,
      isRetryable: false,
    });
  });
});

describe('whatsapp web adapter: send', () => {
  it('sends to the @c.us JID with X-Auth-Token; 8XXXXXXXXXX becomes 7XXXXXXXXXX', async () => {
    fake.scan(2);
    const result = await adapter.send(msg(2, { to: '8 999 123-45-67', text: 'hello' }));
    expect(result).toMatchObject({ ok: true, provider: 'whatsapp', warnings: [] });
    expect(fake.sent.at(-1)).toEqual({ tenant: 2, to: '79991234567@c.us', text: 'hello', container: 2 });
    await adapter.send(msg(2, { to: '79991234567@s.whatsapp.net', text: 'jid' }));
    expect(fake.sent.at(-1)?.to).toBe('79991234567@c.us');
    await adapter.send(msg(2, { to: '120363025246125486@g.us', text: 'group' }));
    expect(fake.sent.at(-1)?.to).toBe('120363025246125486@g.us');
  });

  it('reports reply_to as an explicit warning instead of dropping it silently', async () => {
    fake.scan(2);
    const result = await adapter.send(msg(2, { to: '+79991234567', text: 'x', meta: { reply_to: 'abc' } }));
    expect(result.warnings).toEqual([{ code: 'reply_to_unsupported', message: expect.any(String) }]);
    expect(toWorkerResult(result)).toMatchObject({ ok: true, warnings: ['reply_to_unsupported'] });
  });

  it('session not ready -> non-retryable session_not_ready; 5xx retryable with Retry-After', async () => {
    await adapter.session.logout(1);
    await expect(adapter.send(msg(1, { to: '+79991234567', text: 'x' }))).rejects.toMatchObject({
      code: 'session_not_ready',
      status: 409,
      isRetryable: false,
    });
    fake.fail({ status: 503, path: '/send', retryAfter: 'Wed, 21 Oct 2099 07:28:00 GMT' });
    const error = await adapter.send(msg(2, { to: '+79991234567', text: 'x' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ isRetryable: true, status: 503 });
    expect((error as { retryAfter: number }).retryAfter).toBeGreaterThan(1000);
  });

  it('rejects an invalid number before calling the worker', async () => {
    const before = fake.calls.length;
    await expect(adapter.send(msg(2, { to: '12345', text: 'x' }))).rejects.toBeInstanceOf(InvalidTargetError);
    // Every error an adapter throws answers isRetryable / retryAfter, not only upstream failures.
    await expect(adapter.send(msg(2, { to: '12345', text: 'x' }))).rejects.toMatchObject({
      code: 'invalid_target',
      isRetryable: false,
      retryAfter: undefined,
    });
    expect(fake.calls.length).toBe(before);
  });

  it('a wrong X-Auth-Token is a 401', async () => {
    const bad = createWhatsAppWebAdapter({ baseUrlFor: fake.baseUrlFor, authToken: 'nope' });
    await expect(bad.session.status(1)).rejects.toMatchObject({ status: 401, isRetryable: false });
  });
});

describe('whatsapp web adapter: webhook', () => {
  it('parses messages.incoming, qr and ready', async () => {
    const incoming = await adapter.parseWebhook({
      event: 'messages.incoming',
      tenant: 7,
      channel: 'whatsapp',
      message_id: 'ABCD123',
      from: '79991234567',
      text: 'Привет!',
      media: [{ type: 'image', url: 'whatsapp://7/ABCD', name: 'photo.jpg' }],
      ts: 1716748800,
    });
    expect(incoming.events[0]).toMatchObject({
      from: '79991234567',
      from_jid: '79991234567@c.us',
      peer: '79991234567',
    });
    const qr = await adapter.parseWebhook({ provider: 'whatsapp', event: 'qr', tenant: 1, qr_id: '1', svg: '<svg/>' });
    expect(qr.events[0]).toMatchObject({ event: 'qr' });
    await expect(adapter.parseWebhook({ event: 'qr', tenant: 1, qr_id: '1' })).rejects.toMatchObject({
      code: 'invalid_qr',
      httpStatus: 422,
    });
    await expect(adapter.parseWebhook({ event: 'messages.incoming', tenant: 1 })).rejects.toBeInstanceOf(
      WebhookPayloadError,
    );
  });

  it('verifies the provider token per tenant', async () => {
    await tokens.ensure(7);
    expect(await adapter.verifyWebhook({ tenant: 7, query: { token: 'wa-provider-token' } })).toBe(true);
    expect(await adapter.verifyWebhook({ tenant: 7, query: { token: 'x' } })).toBe(false);
    const noStore = createWhatsAppWebAdapter({ baseUrlFor: fake.baseUrlFor, authToken: 'x' });
    expect(await noStore.verifyWebhook({ tenant: 7, query: { token: 'wa-provider-token' } })).toBe(false);
  });
});
