import { randomBytes } from 'node:crypto';
import { PhoneClient } from '@callbridge/phone-protocol';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { createTestDatabase, registeredCallbackSecret, testClientFactory, testEnv } from './helpers.js';

// Two instances on one PostgreSQL and one Redis: the phone's long-poll is held by B, RetailCRM's make-call
// lands on A, the result comes back through either; RetailCRM sees one upload.

const dbUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!dbUrl || !redisUrl)('phone API on two instances (PostgreSQL + Redis)', () => {
  const fake = createFakeRetailCrm({ rateLimit: false, users: [{ id: 18, firstName: 'Anna' }] });
  const msw = setupServer(...fake.handlers);
  const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
  let db: { url: string; drop: () => Promise<void> };
  let a: RunningServer;
  let b: RunningServer;

  const start = (redisPrefix: string) =>
    startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, REDIS_URL: redisUrl }),
      logger: createLogger('silent'),
      redisPrefix,
      clientFactory: testClientFactory,
      phone: { upload: { retryDelaysMs: [30], sweepIntervalMs: 50 } },
    });

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    db = await createTestDatabase(dbUrl as string);
    const prefix = `cbt-${randomBytes(4).toString('hex')}`;
    a = await start(prefix);
    b = await start(prefix);
    await a.storage.upsertEnterprise({ number: '0367', name: 'Shop' });
    await a.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150' });
    const put = await fetch(`${a.url}/api/config/0367`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ domain: 'https://demo.retailcrm.ru', api_key: FAKE_RETAILCRM_API_KEY }),
    });
    expect(put.status).toBe(200);
    expect((await fetch(`${a.url}/api/register/0367`, { method: 'POST', headers: admin })).status).toBe(200);
    const save = await fetch(`${a.url}/api/save-extensions/0367`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ extensions: { '18': '150' } }),
    });
    expect(save.status).toBe(200);
  });

  afterAll(async () => {
    msw.close();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('make-call on A reaches the poll held on B; the result is uploaded once', async () => {
    const created = await fetch(`${a.url}/api/phone-admin/users/0367`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'anna', password: 'anna-password-1', extension: '150' }),
    });
    expect(created.status).toBe(201);

    const onB = new PhoneClient({ baseUrl: b.url, deviceId: 'anna-device-0001' });
    await onB.login('anna', 'anna-password-1');
    await onB.registerDevice();
    const poll = onB.pull({ waitSeconds: 10 });
    for (let i = 0; i < 200 && b.phone.protocol.stats().heldPolls === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(b.phone.protocol.stats().heldPolls).toBe(1);

    const made = await fetch(
      `${a.url}/retailcrm/make-call?secret=${registeredCallbackSecret(fake)}&clientId=0367&phone=%2B79001234567&userId=18`,
    );
    const body = (await made.json()) as { via?: string; command_id: string };
    expect(body.via).toBe('phone');
    const started = Date.now();
    const pulled = await poll;
    expect(pulled).toMatchObject({ status: 'command', command: { id: body.command_id, phone: '+79001234567' } });
    expect(Date.now() - started).toBeLessThan(2000);

    // The same session answers through A (load balancer), then retries through B.
    const onA = new PhoneClient({ baseUrl: a.url, deviceId: 'anna-device-0001', tokens: onB.session });
    expect(
      await onA.sendCallResult({ callRequestId: body.command_id, status: 'connected', durationSeconds: 9 }),
    ).toEqual({ format: 'legacy', acknowledged: true });
    expect(
      await onB.sendCallResult({ callRequestId: body.command_id, status: 'connected', durationSeconds: 9 }),
    ).toEqual({ format: 'legacy', acknowledged: false });
    for (let i = 0; i < 250 && fake.state.uploadedCalls.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([a.phone.uploader.drain(), b.phone.uploader.drain()]);
    expect(fake.requestsTo('/telephony/calls/upload', 'POST')).toHaveLength(1);
    expect(fake.state.uploadedCalls).toMatchObject([
      { externalId: body.command_id, result: 'answered', duration: 9, type: 'out', userId: 18 },
    ]);

    const stats = (await (await fetch(`${b.url}/stats`)).json()) as { phone: Record<string, unknown> };
    expect(stats.phone).toMatchObject({ command_bus: 'redis', devices: { registered: 1 }, calls: { uploaded: 1 } });
  });
});
