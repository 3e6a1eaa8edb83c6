import { randomBytes } from 'node:crypto';
import { createFakeTelegramWorker } from '@callbridge/messenger-contract/testing';
import { Redis } from 'ioredis';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { createTestDatabase, testEnv } from './helpers.js';

const baseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const PUBLIC_KEY = 'public-key-pg-0123456789abc';

/** Two instances on one PostgreSQL database and one Redis: the hub's guarantees must hold across them. */
describe.skipIf(!baseUrl || !redisUrl)('messenger hub on PostgreSQL + Redis, two instances', () => {
  const tg = createFakeTelegramWorker({ adminToken: testEnv.ADMIN_TOKEN });
  const msw = setupServer(...tg.handlers);
  const prefix = `cbm-${randomBytes(4).toString('hex')}`;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: RunningServer;
  let b: RunningServer;
  let redis: Redis;

  const start = () =>
    startServer({
      config: loadConfig({
        ...testEnv,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        PUBLIC_KEY,
        OUTBOX_ENABLED: 'true',
        OUTBOX_WHITELIST: '*',
        TGWORKER_BASE_URL: tg.baseUrl,
      }),
      logger: createLogger('silent'),
      redisPrefix: prefix,
    });

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    db = await createTestDatabase(baseUrl as string);
    a = await start();
    b = await start();
    redis = new Redis(redisUrl as string);
  });

  afterAll(async () => {
    msw.close();
    await a?.close();
    await b?.close();
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    await db?.drop();
  });

  const post = async (srv: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(srv.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, data: (await res.json()) as Record<string, unknown> };
  };
  const admin = { 'x-admin-token': testEnv.ADMIN_TOKEN };

  it('provider tokens and tenant keys are one per tenant across instances, even when created concurrently', async () => {
    const [ta, tb] = await Promise.all([
      post(a, '/internal/tenant/9/ensure', {}, { 'x-auth-token': testEnv.ADMIN_TOKEN }),
      post(b, '/internal/tenant/9/ensure', {}, { 'x-auth-token': testEnv.ADMIN_TOKEN }),
    ]);
    expect(ta.data.provider_token).toBe(tb.data.provider_token);
    const keys = await Promise.all(
      [a, b, a, b].map(async (s) => {
        const res = await fetch(`${s.url}/admin/key/get?tenant=9`, { headers: admin });
        return ((await res.json()) as { key: string }).key;
      }),
    );
    expect(new Set(keys).size).toBe(1);
    expect((await post(b, '/admin/key/create', { tenant: 9 }, admin)).status).toBe(409);
  });

  it('the same inbound message posted to both instances is stored and LPUSHed once', async () => {
    const token = (await post(a, '/internal/tenant/9/ensure', {}, { 'x-auth-token': testEnv.ADMIN_TOKEN })).data
      .provider_token as string;
    const message = {
      event: 'messages.incoming',
      tenant: 9,
      channel: 'whatsapp',
      message_id: 'wamid.pg-1',
      from: '+79991234567',
      text: 'Добрый день',
      ts: 1715683200,
    };
    const answers = await Promise.all([a, b, a, b].map((s) => post(s, `/webhook?token=${token}`, message)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(answers.filter((r) => r.data.queued === true)).toHaveLength(1);
    expect(answers.filter((r) => r.data.duplicate === true)).toHaveLength(3);
    expect(await redis.llen(`${prefix}:inbox:message_in`)).toBe(1);
    const pushed = JSON.parse((await redis.lindex(`${prefix}:inbox:message_in`, 0)) as string);
    expect(pushed).toMatchObject({ message_id: 'wamid.pg-1', from: '79991234567', tenant: 9 });
    expect(await b.messenger.store.listEvents(9)).toHaveLength(1);
  });

  it('a QR received by one instance is served by the other (Redis, seed keys, TTL >= 180 s)', async () => {
    const token = (await post(b, '/internal/tenant/9/ensure', {}, { 'x-auth-token': testEnv.ADMIN_TOKEN })).data
      .provider_token as string;
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" id="pg-qr"/>';
    const qr = await post(a, `/webhook?token=${token}`, { event: 'qr', tenant: 9, qr_id: 'q-77', svg });
    expect(qr.data).toEqual({ ok: true, queued: false, event: 'qr' });
    const res = await fetch(`${b.url}/pub/wa/qr.svg?tenant=9&k=${PUBLIC_KEY}`);
    expect(await res.text()).toBe(svg);
    expect(await redis.get(`${prefix}:wa:qr:last:9`)).toBe('q-77');
    const ttl = await redis.ttl(`${prefix}:wa:qr:9:q-77:svg`);
    expect(ttl).toBeGreaterThan(170);
    expect(ttl).toBeLessThanOrEqual(180);
  });

  it('two messages of one new person reaching both instances at once make one contact and one lead', async () => {
    const token = (await post(a, '/internal/tenant/9/ensure', {}, { 'x-auth-token': testEnv.ADMIN_TOKEN })).data
      .provider_token as string;
    const message = (id: string) => ({
      tenant: 9,
      channel: 'telegram',
      message_id: id,
      telegram_user_id: 100200300,
      text: 'hello',
      ts: 1716748800,
    });
    const answers = await Promise.all([
      post(a, `/webhook/telegram?token=${token}`, message('pg-tg-1')),
      post(b, `/webhook/telegram?token=${token}`, message('pg-tg-2')),
    ]);
    for (const r of answers) expect(r.data).toEqual({ ok: true, queued: true });
    const list = await fetch(`${b.url}/admin/contacts?tenant=9`, { headers: admin });
    const { contacts } = (await list.json()) as { contacts: { telegram_user_id: string; leads: unknown[] }[] };
    // (Tenant 9's WhatsApp sender from an earlier test is another contact.)
    expect(contacts.filter((c) => c.telegram_user_id !== undefined)).toEqual([
      expect.objectContaining({
        telegram_user_id: '100200300',
        leads: [expect.objectContaining({ channel: 'telegram', peers: ['100200300'] })],
      }),
    ]);
  });

  it('a send with one client_msg_id posted to both instances is delivered once', async () => {
    // The lead exists since the previous test's inbound messages.
    const body = { tenant: 9, channel: 'telegram', to: 100200300, text: 'once', client_msg_id: 'pg-send-1' };
    const answers = await Promise.all([post(a, '/send', body, admin), post(b, '/send', body, admin)]);
    expect(tg.sent.filter((m) => m.text === 'once')).toHaveLength(1);
    // The loser sees either the stored outcome or "in progress"; never a second delivery.
    for (const r of answers) expect([200, 409]).toContain(r.status);
    const replay = await post(b, '/send', body, admin);
    expect(replay).toMatchObject({ status: 200, data: { ok: true, duplicate: true } });
    expect(tg.sent.filter((m) => m.text === 'once')).toHaveLength(1);
  });
});
