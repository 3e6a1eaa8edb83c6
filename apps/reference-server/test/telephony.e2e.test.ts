import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { registeredCallbackSecret, testClientFactory, testEnv } from './helpers.js';

const CUSTOMER_PHONE = '+79001234567';
const fake = createFakeRetailCrm({
  rateLimit: false,
  // The account reads dates in UTC, the server's default zone: stamps go through unchanged.
  timeZone: 'UTC',
  users: [
    { id: 18, firstName: 'Anna' },
    { id: 19, firstName: 'Boris' },
  ],
  customers: [{ id: 1, firstName: 'Ivan', phones: [{ number: CUSTOMER_PHONE }], managerId: 18 }],
});
const msw = setupServer(...fake.handlers);
const originated: Array<{ enterpriseNumber: string; extension: string; phone: string }> = [];
let srv: RunningServer;
/** The callback secret RetailCRM got at registration (RetailCRM calls exactly the registered URLs). */
let secret: string;

const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}
async function get(path: string) {
  const res = await fetch(srv.url + path);
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}

const dial = (uid: string, token = 'pbx-0367') => ({
  enterprise_number: '0367',
  event_type: 'dial',
  payload: {
    Token: token,
    UniqueId: uid,
    CallType: 0,
    Phone: CUSTOMER_PHONE,
    Extensions: ['150', '151'],
    Trunk: 'sip-trunk',
  },
});
const hangup = (uid: string) => ({
  enterprise_number: '0367',
  event_type: 'hangup',
  payload: {
    Token: 'pbx-0367',
    UniqueId: uid,
    CallType: 0,
    Phone: CUSTOMER_PHONE,
    Extensions: ['150'],
    CallStatus: '2',
    StartTime: '2026-11-23 10:00:00',
    EndTime: '2026-11-23 10:01:05',
  },
});

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
    originator: {
      async originate(p) {
        originated.push(p);
      },
    },
  });
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  await srv.storage.upsertEnterprise({ number: '0500', name: 'Other', pbxToken: 'pbx-0500' });
  for (const p of ['150', '151']) await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: p });
  const put = await fetch(`${srv.url}/api/config/0367`, {
    method: 'PUT',
    headers: admin,
    // Smart redirect is off by default (a stored flag that now gates): this suite exercises it.
    body: JSON.stringify({
      domain: 'https://demo.retailcrm.ru',
      api_key: FAKE_RETAILCRM_API_KEY,
      enabled: true,
      events: { smart_redirect: true },
    }),
  });
  expect(put.status).toBe(200);
  expect((await fetch(`${srv.url}/api/register/0367`, { method: 'POST', headers: admin })).status).toBe(200);
  secret = registeredCallbackSecret(fake);
  const save = await post('/api/save-extensions/0367', { extensions: { '18': '150' } }, admin);
  expect(save.data.sync).toEqual({ ok: true });
  // The save's NOTIFY invalidates the caches; reading through them reloads.
  srv.enablementCache.invalidate('0367');
  srv.configCache.invalidate('0367');
  expect((await srv.enablementCache.get('0367'))?.retailcrm).toBe(true);
}, 150_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('POST /api/events', () => {
  it('refuses missing or foreign PBX tokens and bad bodies', async () => {
    expect((await post('/api/events', dial('x', ''))).status).toBe(401);
    expect((await post('/api/events', dial('x', 'pbx-0500'))).data).toMatchObject({ ok: false, error: 'unauthorized' });
    expect((await post('/api/events', { ...dial('x'), enterprise_number: '9999' })).status).toBe(401);
    expect((await post('/api/events', '{"enterprise_number":')).data.error).toBe('invalid_json');
    expect((await post('/api/events', '[]')).status).toBe(400);
    const bad = await post('/api/events', {
      enterprise_number: '0367',
      event_type: 'dial',
      payload: { Token: 'pbx-0367' },
    });
    expect(bad.status).toBe(422);
    expect(bad.data.error).toBe('invalid_event');
    expect(fake.state.callEvents).toEqual([]);
  });

  it('dial + hangup (hangup sent twice) reach RetailCRM exactly once each, history uploaded once', async () => {
    const d = await post('/api/events', dial('1700000000.1'));
    expect(d.status).toBe(202);
    expect(d.data).toMatchObject({ ok: true, enqueued: ['retailcrm'] });
    // Header token works too.
    const h = await post('/api/events', hangup('1700000000.1'), { 'x-pbx-token': 'pbx-0367' });
    expect(h.status).toBe(202);
    const again = await post('/api/events', hangup('1700000000.1'));
    expect(again.data).toMatchObject({ ok: true, duplicates: ['retailcrm'] });
    await srv.telephony.pipeline.onIdle();

    const events = fake.state.callEvents.map((e) => ({
      type: e.type,
      phone: e.phone,
      codes: e.codes,
      hangupStatus: e.hangupStatus,
    }));
    expect(events).toEqual([
      { type: 'in', phone: CUSTOMER_PHONE, codes: ['150', '151'], hangupStatus: undefined },
      { type: 'hangup', phone: CUSTOMER_PHONE, codes: ['150'], hangupStatus: 'answered' },
    ]);
    expect(fake.state.uploadedCalls).toHaveLength(1);
    expect(fake.state.uploadedCalls[0]).toMatchObject({
      externalId: '1700000000.1',
      result: 'answered',
      duration: 65,
      date: '2026-11-23 10:00:00',
      type: 'in',
    });
    const logs = await fetch(`${srv.url}/api/logs/0367?status=success&limit=50`, { headers: admin });
    const items = ((await logs.json()) as { items: Array<{ event_type: string }> }).items.map((l) => l.event_type);
    expect(items).toEqual(expect.arrayContaining(['dial', 'hangup']));
    const stats = await get('/stats');
    expect(stats.data.telephony).toMatchObject({ delivered: expect.any(Number) });
  });
});

describe('POST /api/smart-redirect', () => {
  it('returns the responsible manager extension, or none within the budget', async () => {
    const found = await post(
      '/api/smart-redirect',
      { enterprise_number: '0367', phone: CUSTOMER_PHONE },
      { 'x-pbx-token': 'pbx-0367' },
    );
    expect(found.data).toMatchObject({ ok: true, extension: '150', manager_id: 18 });
    const none = await post(
      '/api/smart-redirect',
      { enterprise_number: '0367', phone: '+70000000000' },
      { 'x-pbx-token': 'pbx-0367' },
    );
    expect(none.data).toMatchObject({ ok: true, extension: null });
    expect((await post('/api/smart-redirect', { enterprise_number: '0367', phone: CUSTOMER_PHONE })).status).toBe(401);
    expect(
      (await post('/api/smart-redirect', { enterprise_number: '0367' }, { 'x-pbx-token': 'pbx-0367' })).status,
    ).toBe(422);
  });
});

describe('RetailCRM callbacks', () => {
  it('make-call: unknown clientId 401, no extension 400, otherwise originates', async () => {
    expect(
      (
        await get(
          `/retailcrm/make-call?secret=${secret}&clientId=9999&phone=${encodeURIComponent(CUSTOMER_PHONE)}&userId=18`,
        )
      ).status,
    ).toBe(401);
    expect((await get(`/retailcrm/make-call?secret=${secret}&clientId=0500&phone=123456&userId=18`)).status).toBe(401);
    const noExt = await get(`/retailcrm/make-call?secret=${secret}&clientId=0367&phone=123456&userId=19`);
    expect(noExt).toMatchObject({ status: 400, data: { error: 'no_extension' } });
    expect((await get(`/retailcrm/make-call?secret=${secret}&clientId=0367&userId=18`)).status).toBe(422);
    const ok = await get(
      `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=${encodeURIComponent(CUSTOMER_PHONE)}&userId=18`,
    );
    expect(ok).toMatchObject({ status: 200, data: { ok: true, extension: '150' } });
    const form = await fetch(`${srv.url}/retailcrm/make-call?secret=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'clientId=0367&phone=123456&code=151',
    });
    expect(form.status).toBe(200);
    expect(originated).toEqual([
      { enterpriseNumber: '0367', extension: '150', phone: CUSTOMER_PHONE },
      { enterpriseNumber: '0367', extension: '151', phone: '123456' },
    ]);
  });

  it('status callback', async () => {
    expect((await get(`/retailcrm/status?secret=${secret}&clientId=0367&userId=18&status=busy`)).status).toBe(200);
    expect((await get(`/retailcrm/status?secret=${secret}&clientId=0367&userId=18&status=sleeping`)).status).toBe(422);
    expect((await get(`/retailcrm/status?secret=${secret}&clientId=nope&userId=18&status=busy`)).status).toBe(401);
  });
});
