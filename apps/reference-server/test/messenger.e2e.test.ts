import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  avitoMessageWebhook,
  createFakeAvito,
  createFakeTelegramWorker,
  createFakeWhatsAppWeb,
} from '@callbridge/messenger-contract/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { MemoryInboxQueue } from '../src/messenger/queues.js';
import { type RunningServer, startServer } from '../src/server.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { testEnv } from './helpers.js';

const PUBLIC_KEY = 'public-key-0123456789abcdef';
const tg = createFakeTelegramWorker({ adminToken: testEnv.ADMIN_TOKEN });
const wa = createFakeWhatsAppWeb({ tenants: [1, 2, 7] });
const avito = createFakeAvito();
const msw = setupServer(...tg.handlers, ...wa.handlers, ...avito.handlers);
const dataDir = mkdtempSync(join(tmpdir(), 'cb-messenger-'));
let srv: RunningServer;

const env = (extra: Record<string, string> = {}) =>
  loadConfig({
    ...testEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    OUTBOX_ENABLED: 'true',
    // Routing, guards and idempotency in isolation; the lead check has its own file (messenger-leads.e2e.test.ts).
    OUTBOX_REQUIRE_LEAD: 'false',
    OUTBOX_WHITELIST: '+79991234567, 100200300 someuser 987654 user:123456 user:999',
    PUBLIC_KEY,
    APP_BASE_URL: 'http://hub.test',
    TGWORKER_BASE_URL: tg.baseUrl,
    WAWEB_URL_TEMPLATE: 'http://waweb-{tenant}.test:9001',
    WAWEB_ADMIN_TOKEN: wa.authToken,
    AVITO_CLIENT_ID: avito.clientId,
    AVITO_CLIENT_SECRET: avito.clientSecret,
    ...extra,
  });

interface Answer {
  status: number;
  data: Record<string, unknown>;
  headers: Headers;
}
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = () => srv.url,
): Promise<Answer> {
  const res = await fetch(base() + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    data = { raw: text };
  }
  return { status: res.status, data, headers: res.headers };
}
const admin = { 'x-admin-token': testEnv.ADMIN_TOKEN };
const send = (body: unknown, headers: Record<string, string> = admin) => call('POST', '/send', body, headers);
const inbox = () => (srv.messenger.inbox as MemoryInboxQueue).items;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({ config: env(), logger: createLogger('silent'), inMemory: true });
}, 120_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /send', () => {
  it('accepts only X-Admin-Token and validates the TransportMessage', async () => {
    const msg = { tenant: 1, channel: 'telegram', to: 100200300, text: 'ping' };
    expect(await send(msg, {})).toMatchObject({ status: 401, data: { ok: false, error: 'unauthorized' } });
    expect((await send(msg, { 'x-admin-token': 'wrong-token-0123456789' })).status).toBe(401);
    // The seed: strictly the X-Admin-Token header, not a bearer token.
    expect((await send(msg, { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` })).status).toBe(401);
    const bad = await send({ tenant: 1, channel: 'telegram', to: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.data).toMatchObject({ ok: false, error: 'invalid_payload' });
    expect((await send({ tenant: 1, channel: 'fax', to: 'x', text: 'hi' })).status).toBe(422);
    expect((await send('{"tenant":')).data.error).toBe('invalid_json');
    expect(tg.sent).toEqual([]);
  });

  it('refuses recipients outside OUTBOX_WHITELIST before any delivery', async () => {
    const r = await send({ tenant: 1, channel: 'telegram', to: 'stranger', text: 'hi' });
    expect(r).toMatchObject({ status: 403, data: { ok: false, error: 'not_whitelisted' } });
    const w = await send({ tenant: 1, channel: 'whatsapp', to: '+79990000000', text: 'hi' });
    expect(w.data.error).toBe('not_whitelisted');
    expect(tg.sent).toEqual([]);
    expect(wa.sent).toEqual([]);
  });

  it('routes telegram to tgworker with reply_to, whitelist matching usernames and ids', async () => {
    const a = await send({ tenant: 1, channel: 'telegram', to: 100200300, text: 'ping' });
    expect(a).toMatchObject({ status: 200, data: { ok: true } });
    const b = await send({
      tenant: 1,
      channel: 'telegram',
      to: '@SomeUser',
      text: 'pong',
      meta: { reply_to: '12345' },
    });
    expect(b.status).toBe(200);
    expect(tg.sent).toEqual([
      expect.objectContaining({ tenant: 1, text: 'ping' }),
      expect.objectContaining({ tenant: 1, text: 'pong', reply_to: '12345' }),
    ]);
  });

  it('routes whatsapp to the tenant container with the normalised JID (8XXX -> 7XXX)', async () => {
    const notReady = await send({ tenant: 2, channel: 'whatsapp', to: '89991234567', text: 'hi' });
    expect(notReady).toMatchObject({ status: 502, data: { ok: false, error: 'session_not_ready' } });
    wa.scan(2);
    const ok = await send({ tenant: 2, channel: 'whatsapp', to: '89991234567', text: 'hi', meta: { reply_to: 'x' } });
    expect(ok).toMatchObject({ status: 200, data: { ok: true, warnings: ['reply_to_unsupported'] } });
    expect(wa.sent).toEqual([expect.objectContaining({ container: 2, to: '79991234567@c.us', text: 'hi' })]);
  });

  it('is idempotent on client_msg_id; a retryable failure lets the retry through', async () => {
    const before = tg.sent.length;
    const msg = { tenant: 1, channel: 'telegram', to: 100200300, text: 'once', client_msg_id: 'crm-42' };
    const first = await send(msg);
    expect(first).toMatchObject({ status: 200, data: { ok: true } });
    const second = await send(msg);
    expect(second).toMatchObject({ status: 200, data: { ok: true, duplicate: true } });
    expect(second.data.message_id).toBe(first.data.message_id);
    expect(tg.sent.length).toBe(before + 1);

    tg.fail({ status: 503, path: '/send', retryAfter: '7' });
    const down = await send({ ...msg, client_msg_id: 'crm-43' });
    expect(down).toMatchObject({ status: 502, data: { ok: false, error: 'tg_unavailable', retryable: true } });
    expect(down.headers.get('retry-after')).toBe('7');
    const retried = await send({ ...msg, client_msg_id: 'crm-43' });
    expect(retried).toMatchObject({ status: 200, data: { ok: true } });
    expect(retried.data.duplicate).toBeUndefined();
    expect(tg.sent.length).toBe(before + 2);
  });

  it('a send claim left pending by a dead process is taken over once it is stale', async () => {
    const store = srv.messenger.store;
    expect(await store.claimSend(1, 'telegram', 'stale-1')).toEqual({ kind: 'claimed' });
    expect(await store.claimSend(1, 'telegram', 'stale-1')).toEqual({ kind: 'pending' });
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.claimSend(1, 'telegram', 'stale-1', 1)).toEqual({ kind: 'claimed' });
    await store.completeSend(1, 'telegram', 'stale-1', 200, { ok: true });
    // A finished send is never taken over, however old.
    expect(await store.claimSend(1, 'telegram', 'stale-1', 0)).toEqual({
      kind: 'done',
      httpStatus: 200,
      result: { ok: true },
    });
  });

  it('sends to Avito after the OAuth connect, tokens kept encrypted in storage', async () => {
    const connect = await call('POST', '/admin/avito/3/connect', { code: avito.issueCode(400040070) }, admin);
    expect(connect).toMatchObject({ status: 200, data: { ok: true, account_id: 400040070, subscribed: true } });
    expect(avito.subscriptionsOf(400040070)[0]).toMatch(/^http:\/\/hub\.test\/webhook\/avito\/3\?token=/);
    const r = await send({ tenant: 3, channel: 'avito', to: '987654', text: 'Спасибо за обращение' });
    expect(r).toMatchObject({ status: 200, data: { ok: true } });
    expect(avito.sent).toEqual([{ accountId: 400040070, chatId: '987654', text: 'Спасибо за обращение' }]);
    const raw = await (srv.storage as SqlStorage).sql.query('SELECT tokens FROM avito_tokens WHERE tenant = 3');
    expect(String(raw[0]?.tokens)).toMatch(/^enc:v1:/);
    expect(String(raw[0]?.tokens)).not.toContain('at-');
  });
});

describe('provider tokens and POST /webhook', () => {
  let token7: string;
  beforeAll(async () => {
    const ensure = await call('POST', '/internal/tenant/7/ensure', undefined, { 'x-auth-token': testEnv.ADMIN_TOKEN });
    expect(ensure).toMatchObject({ status: 200, data: { ok: true, tenant: 7 } });
    token7 = ensure.data.provider_token as string;
    expect(token7).toMatch(/^[0-9a-f]{48}$/);
  });

  it('ensure is idempotent, guarded, and the admin route shows the same token', async () => {
    expect(
      (await call('POST', '/internal/tenant/7/ensure', undefined, { 'x-auth-token': 'nope-nope-nope' })).status,
    ).toBe(401);
    const again = await call('POST', `/internal/tenant/7/ensure?token=${testEnv.ADMIN_TOKEN}`);
    expect(again.data.provider_token).toBe(token7);
    expect((await call('GET', '/admin/provider-token/7')).status).toBe(401);
    const viaAdmin = await call('GET', '/admin/provider-token/7', undefined, admin);
    expect(viaAdmin.data).toEqual({ ok: true, tenant: 7, provider_token: token7 });
    expect((await call('GET', '/admin/provider-token/abc', undefined, admin)).status).toBe(422);
  });

  const incoming = (id: string, extra: Record<string, unknown> = {}) => ({
    event: 'messages.incoming',
    tenant: 7,
    channel: 'whatsapp',
    message_id: id,
    from: '79991234567',
    text: 'Привет!',
    media: [{ type: 'image', url: 'whatsapp://7/ABCD', name: 'photo.jpg' }],
    ts: 1716748800,
    ...extra,
  });

  it('answers 401 for a missing, wrong or foreign token and 422 for schema violations', async () => {
    expect((await call('POST', '/webhook', incoming('A0'))).status).toBe(401);
    expect((await call('POST', '/webhook?token=wrong', incoming('A0'))).data).toEqual({
      ok: false,
      error: 'provider_token_unauthorized',
    });
    const other = (await call('GET', '/admin/provider-token/8', undefined, admin)).data.provider_token as string;
    expect((await call('POST', `/webhook?token=${other}`, incoming('A0'))).status).toBe(401);
    const noFrom = await call('POST', `/webhook?token=${token7}`, { ...incoming('A0'), from: undefined });
    expect(noFrom).toMatchObject({ status: 422, data: { ok: false, error: 'invalid_payload' } });
    const noText = await call('POST', `/webhook?token=${token7}`, { ...incoming('A0'), text: '', media: [] });
    expect(noText.status).toBe(422);
    expect((await call('POST', `/webhook?token=${token7}`, '[1,2]')).status).toBe(422);
    expect((await call('POST', `/webhook?token=${token7}`, '{"tenant":')).status).toBe(400);
    expect(inbox()).toEqual([]);
  });

  it('stores a valid message in webhook_events and pushes it to the inbox exactly once', async () => {
    const first = await call('POST', `/webhook?token=${token7}`, incoming('ABCD123'));
    expect(first).toMatchObject({ status: 200, data: { ok: true, queued: true } });
    const dup = await call('POST', '/webhook', incoming('ABCD123'), { 'x-provider-token': token7 });
    expect(dup).toMatchObject({ status: 200, data: { ok: true, queued: false, duplicate: true } });
    const events = await srv.messenger.store.listEvents(7);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ provider: 'whatsapp', event: 'messages.incoming', messageId: 'ABCD123' });
    expect(events[0]?.payload).toMatchObject({ from: '79991234567', from_jid: '79991234567@c.us', ts: 1716748800 });
    expect(inbox()).toHaveLength(1);
    expect(inbox()[0]).toMatchObject({ message_id: 'ABCD123', peer: '79991234567' });
    const listed = await call('GET', '/admin/messenger/events?tenant=7', undefined, admin);
    expect(listed.data).toMatchObject({ ok: true, inbox_length: 1 });
  });

  it('ready is queued, qr is cached for /pub/wa and answers queued:false', async () => {
    const ready = await call('POST', `/webhook?token=${token7}`, { event: 'ready', tenant: 7, channel: 'whatsapp' });
    expect(ready.data).toEqual({ ok: true, queued: true });
    const noSvg = await call('POST', `/webhook?token=${token7}`, {
      provider: 'whatsapp',
      event: 'qr',
      tenant: 7,
      qr_id: '1',
    });
    expect(noSvg).toMatchObject({ status: 422, data: { ok: false, error: 'invalid_qr' } });
    const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" id="q-1715940000000"/>';
    const qr = await call('POST', `/webhook?token=${token7}`, {
      provider: 'whatsapp',
      event: 'qr',
      tenant: 7,
      qr_id: '1715940000000',
      svg,
    });
    expect(qr.data).toEqual({ ok: true, queued: false, event: 'qr' });
    const img = await fetch(`${srv.url}/pub/wa/qr.svg?tenant=7&k=${PUBLIC_KEY}`);
    expect(img.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await img.text()).toBe(svg);
    const byId = await fetch(`${srv.url}/pub/wa/qr.svg?tenant=7&qr_id=1715940000000&k=${PUBLIC_KEY}`);
    expect(await byId.text()).toBe(svg);
    const status = await call('GET', `/pub/wa/status?tenant=7&k=${PUBLIC_KEY}`);
    expect(status.data).toMatchObject({ ok: true, ready: false, qr: true, qr_id: '1715940000000' });
  });

  it('telegram events go through /webhook/telegram (peer filled from telegram_user_id) and /webhook', async () => {
    const t = await call('POST', `/webhook/telegram?token=${token7}`, {
      tenant: 7,
      message_id: 555,
      telegram_user_id: 100200300,
      text: 'hello',
      ts: '2024-05-26T18:40:00Z',
    });
    expect(t.data).toEqual({ ok: true, queued: true });
    const viaMain = await call('POST', `/webhook?token=${token7}`, {
      event: 'messages.incoming',
      tenant: 7,
      channel: 'telegram',
      message_id: 556,
      username: 'someuser',
      peer_id: 42,
      text: 'hi',
      ts: 1716748800,
    });
    expect(viaMain.data).toEqual({ ok: true, queued: true });
    const tgEvents = (await srv.messenger.store.listEvents(7)).filter((e) => e.provider === 'telegram');
    expect(tgEvents.map((e) => [e.messageId, (e.payload as { peer?: string }).peer])).toEqual([
      ['556', '42'],
      ['555', '100200300'],
    ]);
  });
});

describe('metrics', () => {
  it('counts webhook and send outcomes in /metrics', async () => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/callbridge_webhook_provider_total\{status="queued",channel="whatsapp"\} [1-9]/);
    expect(text).toMatch(/callbridge_webhook_provider_total\{status="duplicate",channel="whatsapp"\} 1/);
    expect(text).toMatch(/callbridge_webhook_provider_total\{status="unauthorized",channel="whatsapp"\} [1-9]/);
    expect(text).toMatch(/callbridge_messenger_send_total\{status="not_whitelisted",channel="telegram"\} 1/);
    expect(text).toMatch(/callbridge_messenger_send_total\{status="sent",channel="telegram"\} [1-9]/);
  });
});

describe('POST /webhook/avito', () => {
  it('authenticates by token (tenant found from it), ignores echoes, de-duplicates, fills the chat cache', async () => {
    const token = (await call('GET', '/admin/provider-token/3', undefined, admin)).data.provider_token as string;
    const body = avitoMessageWebhook({ userId: 400040070, authorId: 123456, chatId: 'chat-9', id: 'av-1' });
    expect((await call('POST', '/webhook/avito', body)).status).toBe(401);
    expect((await call('POST', '/webhook/avito/3?token=bad', body)).status).toBe(401);
    const ok = await call('POST', `/webhook/avito?token=${token}`, body);
    expect(ok.data).toEqual({ ok: true, queued: true });
    const dup = await call('POST', `/webhook/avito/3?token=${token}`, body);
    expect(dup.data).toEqual({ ok: true, queued: false, duplicate: true });
    const echo = avitoMessageWebhook({ userId: 400040070, authorId: 400040070, chatId: 'chat-9', id: 'av-2' });
    expect((await call('POST', `/webhook/avito/3?token=${token}`, echo)).data).toEqual({
      ok: true,
      queued: false,
      ignored: ['echo'],
    });
    expect((await call('POST', `/webhook/avito/3?token=${token}`, { payload: 'x' })).status).toBe(422);
    expect((await call('POST', `/webhook/avito/zz?token=${token}`, body)).status).toBe(422);
    const events = await srv.messenger.store.listEvents(3);
    expect(events.map((e) => [e.provider, e.messageId])).toEqual([['avito', 'av-1']]);
    // The chat cache filled by the webhook resolves `user:<author>` for a reply.
    const reply = await send({ tenant: 3, channel: 'avito', to: 'user:123456', text: 'Ответ' });
    expect(reply).toMatchObject({ status: 200, data: { ok: true } });
    expect(avito.sent.at(-1)).toEqual({ accountId: 400040070, chatId: 'chat-9', text: 'Ответ' });
    const unknown = await send({ tenant: 3, channel: 'avito', to: 'user:999', text: 'x' });
    expect(unknown).toMatchObject({ status: 422, data: { ok: false, error: 'missing_chat', retryable: false } });
  });
});

describe('/pub/tg/*', () => {
  const q = (extra = '') => `tenant=1&k=${PUBLIC_KEY}${extra}`;

  it('needs ?k=PUBLIC_KEY (the admin token is refused when PUBLIC_KEY is set) and a tenant', async () => {
    expect(await call('GET', '/pub/tg/status?tenant=1')).toMatchObject({
      status: 401,
      data: { detail: 'invalid_key' },
    });
    expect((await call('GET', `/pub/tg/status?tenant=1&k=${testEnv.ADMIN_TOKEN}`)).status).toBe(401);
    expect((await call('GET', '/pub/tg/status?tenant=1', undefined, { 'x-admin-token': PUBLIC_KEY })).status).toBe(401);
    const noTenant = await call('GET', `/pub/tg/status?k=${PUBLIC_KEY}`);
    expect(noTenant).toMatchObject({ status: 422, data: { error: 'invalid_payload', reason: 'invalid_tenant' } });
  });

  it('runs the QR login: start -> qr.png -> need_2fa -> bad password -> authorized -> already_authorized', async () => {
    const start = await call('GET', `/pub/tg/start?${q()}`);
    expect(start.data).toMatchObject({ ok: true, state: 'need_qr', qr_id: expect.any(String) });
    const qrId = start.data.qr_id as string;
    expect(start.data.qr_url).toBe(`/pub/tg/qr.png?tenant=1&qr_id=${qrId}`);
    expect(start.data.expires_at).toBeTruthy();
    const png = await fetch(`${srv.url}/pub/tg/qr.png?${q(`&qr_id=${qrId}`)}`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer()).slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect((await call('GET', `/pub/tg/qr.png?${q('&qr_id=nope')}`)).data).toEqual({
      ok: false,
      error: 'qr_not_found',
    });
    expect((await call('GET', `/pub/tg/qr.png?${q()}`)).status).toBe(404);

    expect((await call('POST', `/pub/tg/2fa?k=${PUBLIC_KEY}`, { tenant: 1, password: 'x' })).data).toEqual({
      ok: false,
      error: 'not_waiting_2fa',
    });
    tg.scan(1, true);
    const waiting = await call('GET', `/pub/tg/status?${q()}`);
    expect(waiting.data).toMatchObject({ state: 'need_2fa', needs_2fa: true, authorized: false });
    const bad = await call('POST', `/pub/tg/2fa?k=${PUBLIC_KEY}`, { tenant: 1, password: 'wrong' });
    expect(bad).toMatchObject({ status: 401, data: { ok: false, error: 'bad_password' } });
    const good = await call('POST', `/pub/tg/2fa?k=${PUBLIC_KEY}`, { tenant: 1, password: 'fake-2fa-password' });
    expect(good.data).toMatchObject({ ok: true, state: 'authorized', authorized: true });
    expect((await call('GET', `/pub/tg/start?${q()}`)).data).toEqual({ ok: false, error: 'already_authorized' });
  });

  it('answers 410 for an expired QR and 502 tg_unavailable when the worker is down', async () => {
    const start = await call('POST', `/pub/tg/start?tenant=4&k=${PUBLIC_KEY}`);
    tg.expire(4);
    const expired = await call('GET', `/pub/tg/qr.png?tenant=4&k=${PUBLIC_KEY}&qr_id=${start.data.qr_id as string}`);
    expect(expired).toMatchObject({ status: 410, data: { error: 'qr_expired' } });
    tg.fail({ status: 503, path: '/auth/status' });
    const down = await call('GET', `/pub/tg/status?${q()}`);
    expect(down).toMatchObject({ status: 502, data: { ok: false, error: 'tg_unavailable' } });
  });
});

describe('/pub/wa/* and tenant keys', () => {
  it('start hands the worker a webhook URL with the tenant provider token; status follows the scan', async () => {
    const start = await call('GET', `/pub/wa/start?tenant=1&k=${PUBLIC_KEY}`);
    expect(start.data).toMatchObject({ ok: true, ready: false, qr: true, qr_url: '/pub/wa/qr.svg?tenant=1' });
    const token = (await call('GET', '/admin/provider-token/1', undefined, admin)).data.provider_token as string;
    expect(wa.webhookUrl(1)).toBe(`http://hub.test/webhook?token=${token}`);
    const svg = await fetch(`${srv.url}/pub/wa/qr.svg?tenant=1&k=${PUBLIC_KEY}`);
    expect(await svg.text()).toContain('<svg');
    wa.scan(1);
    expect((await call('GET', `/pub/wa/status?tenant=1&k=${PUBLIC_KEY}`)).data).toMatchObject({
      ok: true,
      ready: true,
      qr: false,
      qr_url: null,
    });
    wa.fail({ status: 500, path: '/status' });
    expect((await call('GET', `/pub/wa/status?tenant=1&k=${PUBLIC_KEY}`)).data).toEqual({
      ok: false,
      error: 'wa_unavailable',
    });
  });

  it('1 tenant = 1 key: get returns the same key, a second create is 409, delete frees the slot', async () => {
    expect((await call('GET', '/admin/key/get?tenant=2')).status).toBe(401);
    const a = await call('GET', '/admin/key/get?tenant=2', undefined, admin);
    const b = await call('GET', '/admin/key/get?tenant=2', undefined, {
      authorization: `Bearer ${testEnv.ADMIN_TOKEN}`,
    });
    expect(a.data).toMatchObject({ ok: true, tenant: 2, primary: true });
    expect(b.data.key).toBe(a.data.key);
    const key = a.data.key as string;
    expect(a.data.connect_url).toBe(`http://hub.test/connect/wa?tenant=2&k=${encodeURIComponent(key)}`);
    const again = await call('POST', '/admin/key/create', { tenant: 2 }, admin);
    expect(again).toMatchObject({ status: 409, data: { ok: false, error: 'key_already_exists' } });
    expect((await call('POST', '/admin/key/save', { tenant: 2, key: 'another-key-0123456789' }, admin)).status).toBe(
      409,
    );
    expect((await call('GET', '/admin/keys/list?tenant=2', undefined, admin)).data).toMatchObject({ key });

    // The tenant key opens that tenant's public routes only.
    expect((await call('GET', `/pub/wa/status?tenant=2&k=${encodeURIComponent(key)}`)).status).toBe(200);
    expect((await call('GET', `/pub/wa/status?tenant=1&k=${encodeURIComponent(key)}`)).status).toBe(401);

    expect((await call('DELETE', '/admin/key/2', undefined, admin)).data).toEqual({
      ok: true,
      tenant: 2,
      deleted: true,
    });
    expect((await call('GET', `/pub/wa/status?tenant=2&k=${encodeURIComponent(key)}`)).status).toBe(401);
    const fresh = await call('POST', '/admin/key/create', { tenant: 2, key: 'chosen-key-0123456789' }, admin);
    expect(fresh).toMatchObject({ status: 201, data: { ok: true, key: 'chosen-key-0123456789' } });
  });
});

describe('OUTBOX_ENABLED=false', () => {
  let off: RunningServer;
  beforeAll(async () => {
    off = await startServer({
      config: env({ OUTBOX_ENABLED: 'false', OUTBOX_WHITELIST: '*' }),
      logger: createLogger('silent'),
      inMemory: true,
    });
  });
  afterAll(async () => {
    await off?.close();
  });

  it('answers 403 outbox_disabled without calling any worker', async () => {
    const before = tg.calls.length;
    const r = await call(
      'POST',
      '/send',
      { tenant: 1, channel: 'telegram', to: 'me', text: 'x' },
      admin,
      () => off.url,
    );
    expect(r).toMatchObject({ status: 403, data: { ok: false, error: 'outbox_disabled' } });
    expect(tg.calls.length).toBe(before);
  });
});
