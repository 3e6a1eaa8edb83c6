import { Writable } from 'node:stream';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { registeredCallbackPath, registeredCallbackSecret, testClientFactory, testEnv } from './helpers.js';

// The per-enterprise callback secret of makeCallUrl / changeUserStatusUrl: issued at registration,
// required on both routes, rotated by re-registration, removed by unregistration, never logged.

const CUSTOMER = '+79001234567';
const fake = createFakeRetailCrm({ rateLimit: false, users: [{ id: 18, firstName: 'Anna' }] });
const msw = setupServer(...fake.handlers);
const originated: string[] = [];
const logLines: string[] = [];
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
let srv: RunningServer;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(srv.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}
const get = (path: string) => call('GET', path, undefined, {});
const makeCall = (query: string) =>
  get(`/retailcrm/make-call?clientId=0367&phone=${encodeURIComponent(CUSTOMER)}&userId=18${query}`);
const status = (query: string) => get(`/retailcrm/status?clientId=0367&userId=18&status=busy${query}`);

async function setUp(number: string) {
  await srv.storage.upsertEnterprise({ number, name: `Shop ${number}`, pbxToken: `pbx-${number}` });
  await srv.storage.upsertInternalPhone({ enterpriseNumber: number, phoneNumber: '150' });
  const put = await call('PUT', `/api/config/${number}`, {
    domain: 'https://demo.retailcrm.ru',
    api_key: FAKE_RETAILCRM_API_KEY,
    enabled: true,
  });
  expect(put.status).toBe(200);
  expect((await call('POST', `/api/save-extensions/${number}`, { extensions: { '18': '150' } })).status).toBe(200);
}
const register = async (number: string) => {
  expect((await call('POST', `/api/register/${number}`)).status).toBe(200);
  return registeredCallbackSecret(fake);
};
const storedConfig = async (number: string) =>
  (await srv.storage.getEnterprise(number))?.integrationsConfig.retailcrm as Record<string, unknown> | undefined;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  srv = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
    logger: createLogger('debug', sink),
    inMemory: true,
    clientFactory: testClientFactory,
    originator: {
      async originate(p) {
        originated.push(p.phone);
      },
    },
  });
  await setUp('0367');
});

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('RetailCRM callback secret', () => {
  let secret: string;

  it('registration puts a random 32-byte secret into both registered URLs and stores it encrypted', async () => {
    secret = await register('0367');
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(registeredCallbackPath(fake, 'make-call')).toBe(`/retailcrm/make-call?secret=${secret}`);
    expect(registeredCallbackPath(fake, 'status')).toBe(`/retailcrm/status?secret=${secret}`);
    const stored = await storedConfig('0367');
    expect(stored?.callback_secret).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    // Neither the config API nor the integration log shows it.
    expect(JSON.stringify((await call('GET', '/api/config/0367')).data)).not.toContain(secret);
    const logs = await srv.storage.listIntegrationLogs({ enterpriseNumber: '0367', limit: 200, offset: 0 });
    expect(logs.items.some((l) => l.eventType === 'register_module')).toBe(true);
    expect(JSON.stringify(logs.items)).not.toContain(secret);
  });

  it('the registered URLs work: GET, POST form and POST JSON', async () => {
    const before = originated.length;
    const made = await get(
      registeredCallbackPath(fake, 'make-call', { clientId: '0367', phone: CUSTOMER, userId: '18' }),
    );
    expect(made).toMatchObject({ status: 200, data: { ok: true, extension: '150' } });
    const form = await fetch(`${srv.url}/retailcrm/make-call?secret=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'clientId=0367&phone=123456&code=150',
    });
    expect(form.status).toBe(200);
    const json = await call(
      'POST',
      `/retailcrm/status?secret=${secret}`,
      { clientId: '0367', status: 'free' },
      {
        'content-type': 'application/json',
      },
    );
    expect(json.status).toBe(200);
    expect(
      (await get(registeredCallbackPath(fake, 'status', { clientId: '0367', userId: '18', status: 'busy' }))).status,
    ).toBe(200);
    expect(originated.slice(before)).toEqual([CUSTOMER, '123456']);
  });

  it('a phone dial that fails falls back to AMI Originate and says why in the server log', async () => {
    const dialer = srv.phone.dialer;
    const original = dialer.dial;
    dialer.dial = async () => {
      throw new Error('command bus unavailable');
    };
    try {
      const before = originated.length;
      const made = await makeCall(`&secret=${secret}`);
      expect(made).toMatchObject({ status: 200, data: { ok: true, extension: '150' } });
      expect(made.data.via).toBeUndefined();
      expect(originated.slice(before)).toEqual([CUSTOMER]);
      const line = logLines.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('phone click-to-call failed'));
      expect(line).toMatchObject({ level: 50, enterpriseNumber: '0367', extension: '150' });
      expect(JSON.stringify(line.err)).toContain('command bus unavailable');
    } finally {
      dialer.dial = original;
    }
  });

  it('a missing secret is 401 callback_unauthorized on both routes, before any validation', async () => {
    const before = originated.length;
    expect(await makeCall('')).toMatchObject({ status: 401, data: { ok: false, error: 'callback_unauthorized' } });
    expect(await makeCall('&secret=')).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    expect(await status('')).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    const form = await fetch(`${srv.url}/retailcrm/make-call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'clientId=0367&phone=123456&code=150',
    });
    expect(form.status).toBe(401);
    // No phone and a bad status: still 401, an unauthenticated caller learns nothing from validation.
    expect((await get('/retailcrm/make-call?clientId=0367')).data.error).toBe('callback_unauthorized');
    expect((await get('/retailcrm/status?clientId=0367&status=sleeping')).data.error).toBe('callback_unauthorized');
    expect(originated.length).toBe(before);
  });

  it('a wrong secret is 401 callback_unauthorized on both routes, the same answer as an unknown clientId', async () => {
    const before = originated.length;
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [flipped, 'short', `${secret}x`]) {
      expect(await makeCall(`&secret=${encodeURIComponent(wrong)}`)).toMatchObject({
        status: 401,
        data: { error: 'callback_unauthorized' },
      });
      expect((await status(`&secret=${encodeURIComponent(wrong)}`)).data.error).toBe('callback_unauthorized');
    }
    // Two secrets (query + body): the body's value is the one checked, and a wrong one fails.
    const both = await call(
      'POST',
      `/retailcrm/make-call?secret=${secret}`,
      { clientId: '0367', phone: '1234', secret: 'nope' },
      {
        'content-type': 'application/json',
      },
    );
    expect(both.data.error).toBe('callback_unauthorized');
    // An unknown clientId, a wrong secret and no secret are indistinguishable: nothing tells which numbers exist.
    const unknown = await get(`/retailcrm/make-call?secret=${secret}&clientId=9999&phone=123456`);
    const wrongSecret = await get('/retailcrm/make-call?secret=nope&clientId=0367&phone=123456');
    const noSecret = await get('/retailcrm/make-call?clientId=0367&phone=123456');
    expect(unknown).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    expect(wrongSecret).toEqual(unknown);
    expect(noSecret).toEqual(unknown);
    expect(originated.length).toBe(before);
  });

  it('saving extensions re-sends the module with the same secret', async () => {
    expect((await call('POST', '/api/save-extensions/0367', { extensions: { '18': '150' } })).data.sync).toEqual({
      ok: true,
    });
    expect(registeredCallbackSecret(fake)).toBe(secret);
    expect((await makeCall(`&secret=${secret}`)).status).toBe(200);
  });

  it('re-registration rotates the secret: the old one is 401, the new one works', async () => {
    const old = secret;
    secret = await register('0367');
    expect(secret).not.toBe(old);
    expect(await makeCall(`&secret=${old}`)).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    expect((await status(`&secret=${old}`)).status).toBe(401);
    expect((await makeCall(`&secret=${secret}`)).status).toBe(200);
    expect((await status(`&secret=${secret}`)).status).toBe(200);
  });

  it('a failed re-registration keeps the current secret (RetailCRM still has the old URLs)', async () => {
    fake.failNext({ status: 503, method: 'POST', path: '/integration-modules/callbridge-telephony/edit' });
    expect((await call('POST', '/api/register/0367')).status).toBe(502);
    expect(registeredCallbackSecret(fake)).toBe(secret);
    expect((await makeCall(`&secret=${secret}`)).status).toBe(200);
  });

  it('unregistration removes the secret; registering again issues a new one', async () => {
    const old = secret;
    expect((await call('POST', '/api/unregister/0367')).status).toBe(200);
    expect((await storedConfig('0367'))?.callback_secret).toBeUndefined();
    // RetailCRM's deactivated module carries a throw-away secret, not the old one.
    expect(registeredCallbackSecret(fake)).not.toBe(old);
    expect(await makeCall(`&secret=${old}`)).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    secret = await register('0367');
    expect(secret).not.toBe(old);
    expect(await makeCall(`&secret=${old}`)).toMatchObject({ status: 401, data: { error: 'callback_unauthorized' } });
    expect((await makeCall(`&secret=${secret}`)).status).toBe(200);
  });

  it('an enterprise registered before callback secrets must re-register (or sync extensions)', async () => {
    await srv.storage.updateIntegrationConfig('0367', 'retailcrm', (raw) => {
      const { callback_secret: _dropped, ...rest } = raw ?? {};
      return rest;
    });
    expect(await makeCall(`&secret=${secret}`)).toMatchObject({
      status: 401,
      data: { error: 'callback_unauthorized' },
    });
    expect((await makeCall('')).data.error).toBe('callback_unauthorized');
    // Pushing the extensions sends RetailCRM URLs with a fresh secret and stores it.
    expect((await call('POST', '/api/sync-extensions/0367')).status).toBe(200);
    const fresh = registeredCallbackSecret(fake);
    expect(fresh).not.toBe(secret);
    expect((await makeCall(`&secret=${fresh}`)).status).toBe(200);
    expect((await makeCall(`&secret=${secret}`)).data.error).toBe('callback_unauthorized');
    secret = fresh;
  });

  it('never writes the secret to the logs', async () => {
    await makeCall(`&secret=${secret}`);
    const all = logLines.join('');
    expect(all).toContain('/retailcrm/make-call?clientId=0367');
    expect(all).toContain('secret=[redacted]');
    expect(all).not.toContain(secret);
  });
});
