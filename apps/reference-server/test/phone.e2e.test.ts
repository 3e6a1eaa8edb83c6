import { PhoneAuthError, PhoneClient } from '@callbridge/phone-protocol';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { callJson, registeredCallbackSecret, testClientFactory, testEnv, until } from './helpers.js';

// The whole click-to-call loop over real HTTP: RetailCRM's makeCallUrl -> command for the manager's phone ->
// PhoneClient (the Android app's behaviour) pulls it -> calls/update -> one RetailCRM calls upload.

const CUSTOMER = '+79001234567';
const PULL = '/api/phone/calls/pull/';
const fake = createFakeRetailCrm({
  rateLimit: false,
  // The account reads dates in UTC, the server's default zone: stamps go through unchanged.
  timeZone: 'UTC',
  users: [
    { id: 18, firstName: 'Anna' },
    { id: 19, firstName: 'Boris' },
    { id: 20, firstName: 'Vera' },
  ],
});
const msw = setupServer(...fake.handlers);
const originated: Array<{ extension: string; phone: string }> = [];
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
let srv: RunningServer;
let accountToken: string;
/** The callback secret RetailCRM got at registration. */
let secret: string;

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) =>
  callJson(srv.url, method, path, body, headers);

const uploadsOf = (externalId: string) => fake.state.uploadedCalls.filter((c) => c.externalId === externalId);
const uploadRequests = () => fake.requestsTo('/telephony/calls/upload', 'POST').length;

async function device(username: string, password: string, deviceId: string): Promise<PhoneClient> {
  const client = new PhoneClient({
    baseUrl: srv.url,
    deviceId,
    deviceName: 'Redmi Note 9',
    appVersion: '1.0.0',
    heartbeatEveryPolls: 1,
  });
  await client.login(username, password);
  await client.registerDevice('fcm-token');
  return client;
}

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
    originator: {
      async originate(p) {
        originated.push({ extension: p.extension, phone: p.phone });
      },
    },
    phone: { upload: { retryDelaysMs: [30], sweepIntervalMs: 50, maxAttempts: 3 } },
  });
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  await srv.storage.upsertEnterprise({ number: '0500', name: 'Other', pbxToken: 'pbx-0500' });
  for (const p of ['150', '151', '152']) {
    await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: p });
  }
  const put = await call('PUT', '/api/config/0367', {
    domain: 'https://demo.retailcrm.ru',
    api_key: FAKE_RETAILCRM_API_KEY,
    enabled: true,
  });
  expect(put.status).toBe(200);
  const registered = await call('POST', '/api/register/0367');
  expect(registered.status).toBe(200);
  accountToken = new URL(registered.data.account_url).searchParams.get('token') as string;
  secret = registeredCallbackSecret(fake);
  const save = await call('POST', '/api/save-extensions/0367', {
    extensions: { '18': '150', '19': '151', '20': '152' },
  });
  expect(save.data.sync).toEqual({ ok: true });
  srv.configCache.invalidate('0367');
}, 120_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('phone admin routes', () => {
  it('need the admin token (or the own enterprise account link)', async () => {
    const none = await call(
      'POST',
      '/api/phone-admin/users/0367',
      { username: 'x' },
      { 'content-type': 'application/json' },
    );
    expect(none).toMatchObject({ status: 401, data: { ok: false, error: 'unauthorized' } });
    const bad = await call('GET', '/api/phone-admin/users/0367', undefined, { authorization: 'Bearer nope-nope-nope' });
    expect(bad.status).toBe(401);
    expect((await call('GET', '/api/phone-admin/users/9999')).status).toBe(404);
    // The RetailCRM account link of 0367 opens 0367 only.
    const link = { authorization: `Bearer ${accountToken}` };
    expect((await call('GET', '/api/phone-admin/users/0367', undefined, link)).status).toBe(200);
    expect((await call('GET', '/api/phone-admin/users/0500', undefined, link)).data.error).toBe('forbidden');
  });

  it('create a phone user bound to the manager extension; validation errors are 4xx', async () => {
    const unknownExt = await call('POST', '/api/phone-admin/users/0367', { username: 'bad', extension: '999' });
    expect(unknownExt).toMatchObject({ status: 422, data: { error: 'unknown_extension' } });
    const noMapping = await call('POST', '/api/phone-admin/users/0367', { username: 'bad', retailcrm_user_id: 77 });
    expect(noMapping).toMatchObject({ status: 422, data: { error: 'no_extension' } });
    expect((await call('POST', '/api/phone-admin/users/0367', { username: 'has space' })).status).toBe(422);
    expect((await call('POST', '/api/phone-admin/users/0367', '{"username":')).status).toBe(400);

    const created = await call('POST', '/api/phone-admin/users/0367', {
      username: 'anna',
      password: 'anna-password-1',
      retailcrm_user_id: 18,
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ ok: true, user: { username: 'anna', extension: '150', is_active: true } });
    expect(created.data.password).toBeUndefined();
    const generated = await call('POST', '/api/phone-admin/users/0367', { username: 'vera', extension: '152' });
    expect(generated.status).toBe(201);
    expect(generated.data.password).toMatch(/^[\w-]{16}$/);
    // The password the operator got works, and it is stored only as a hash.
    const login = await fetch(`${srv.url}/api/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: generated.data.password }),
    });
    expect(login.status).toBe(200);
    const other = await call('POST', '/api/phone-admin/users/0500', { username: 'anna' });
    expect(other).toMatchObject({ status: 409, data: { error: 'username_taken' } });
  });
});

describe('phone sessions end with an operator password reset or a deactivation', () => {
  const json = { 'content-type': 'application/json' };
  const login = async (username: string, password: string) => {
    const r = await call('POST', '/api/token/', { username, password }, json);
    expect(r.status).toBe(200);
    return r.data as { access: string; refresh: string };
  };
  const refresh = (token: string) => call('POST', '/api/token/refresh/', { refresh: token }, json);

  it('a refresh token works once; reuse revokes the family; a reset password or deactivation ends it', async () => {
    expect(
      (await call('POST', '/api/phone-admin/users/0500', { username: 'reset-me', password: 'first-password-1' }))
        .status,
    ).toBe(201);
    const first = await login('reset-me', 'first-password-1');
    const rotated = await refresh(first.refresh);
    expect(rotated.status).toBe(200);
    expect(await refresh(first.refresh)).toMatchObject({ status: 401, data: { code: 'token_not_valid' } });
    expect((await refresh(rotated.data.refresh)).status).toBe(401);

    const second = await login('reset-me', 'first-password-1');
    await call('POST', '/api/phone-admin/users/0500', { username: 'reset-me', password: 'second-password-2' });
    expect((await refresh(second.refresh)).status).toBe(401);
    const info = await call('GET', '/api/phone/user/info/', undefined, { authorization: `Bearer ${second.access}` });
    expect(info.status).toBe(401);

    const third = await login('reset-me', 'second-password-2');
    await call('POST', '/api/phone-admin/users/0500', { username: 'reset-me', is_active: false });
    expect((await refresh(third.refresh)).status).toBe(401);
  });
});

describe('click-to-call through the phone app', () => {
  let anna: PhoneClient;

  it('make-call -> device command -> calls/update -> exactly one RetailCRM upload', async () => {
    anna = await device('anna', 'anna-password-1', 'anna-device-0001');
    const poll = anna.pull({ waitSeconds: 10 });
    await until(() => srv.phone.protocol.stats().heldPolls === 1, 'held poll');

    const made = await call(
      'GET',
      `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=${encodeURIComponent(CUSTOMER)}&userId=18`,
    );
    expect(made.status).toBe(200);
    expect(made.data).toMatchObject({ ok: true, success: true, extension: '150', via: 'phone' });
    const commandId = made.data.command_id as string;
    expect(commandId).toEqual(expect.any(String));

    const pulled = await poll;
    expect(pulled.status).toBe('command');
    if (pulled.status !== 'command') return;
    expect(pulled.command).toMatchObject({ id: commandId, phone: CUSTOMER });

    const result = await anna.sendCallResult({
      callRequestId: commandId,
      status: 'connected',
      startedAt: '2026-11-23T10:00:00Z',
      durationSeconds: 42,
      direction: 'outgoing',
      actionSource: 'crm_ui',
    });
    expect(result).toEqual({ format: 'extended', acknowledged: true });
    await until(() => uploadsOf(commandId).length === 1, 'upload');
    expect(uploadsOf(commandId)[0]).toEqual({
      date: '2026-11-23 10:00:00',
      type: 'out',
      phone: CUSTOMER,
      code: '150',
      userId: 18,
      result: 'answered',
      duration: 42,
      externalId: commandId,
    });
    const requestsAfterFirst = uploadRequests();

    // The device retries (lost response, app restart): acknowledged false, and nothing more reaches RetailCRM.
    const again = await anna.sendCallResult({ callRequestId: commandId, status: 'connected', durationSeconds: 42 });
    expect(again).toEqual({ format: 'legacy', acknowledged: false });
    await anna.sendCallResult({ callRequestId: commandId, status: 'no_answer', actionSource: 'crm_ui' });
    await srv.phone.uploader.drain();
    await new Promise((r) => setTimeout(r, 150));
    expect(uploadRequests()).toBe(requestsAfterFirst);
    expect(uploadsOf(commandId)).toHaveLength(1);
    expect(await srv.phone.calls.get(commandId)).toMatchObject({
      callStatus: 'connected',
      uploadState: 'uploaded',
      uploadAttempts: 1,
    });
    // Nothing left for the device.
    expect(await anna.pull({ waitSeconds: 0 })).toMatchObject({ status: 'empty' });
  });

  it("another enterprise's user cannot take over a device: 409 until the owner's enterprise releases it", async () => {
    const token = async (username: string, password: string) => {
      const r = await call('POST', '/api/token/', { username, password }, { 'content-type': 'application/json' });
      expect(r.status).toBe(200);
      return { authorization: `Bearer ${r.data.access}`, 'content-type': 'application/json' };
    };
    expect(
      (await call('POST', '/api/phone-admin/users/0500', { username: 'eve', password: 'eve-password-1' })).status,
    ).toBe(201);
    const annaAuth = await token('anna', 'anna-password-1');
    const eveAuth = await token('eve', 'eve-password-1');
    const register = (auth: Record<string, string>) =>
      call('POST', '/api/phone/devices/register/', { device_id: 'anna-spare-phone' }, auth);
    expect((await register(annaAuth)).status).toBe(200);
    expect(await register(eveAuth)).toMatchObject({ status: 409, data: { code: 'device_not_owned' } });
    expect(await srv.phone.devices.get('anna-spare-phone')).toMatchObject({ tenant: '0367' });
    // Anna's own device keeps working.
    expect((await register(annaAuth)).status).toBe(200);
    // Enterprise 0500 cannot release (or learn about) 0367's device; 0367's operator can.
    expect((await call('DELETE', '/api/phone-admin/devices/0500/anna-spare-phone')).status).toBe(404);
    const released = await call('DELETE', '/api/phone-admin/devices/0367/anna-spare-phone');
    expect(released).toMatchObject({ status: 200, data: { ok: true, released: { device_id: 'anna-spare-phone' } } });
    expect((await register(eveAuth)).status).toBe(200);
    expect(await srv.phone.devices.get('anna-spare-phone')).toMatchObject({ tenant: '0500' });
    // Leave the device list as the later tests expect it.
    expect((await call('DELETE', '/api/phone-admin/devices/0500/anna-spare-phone')).status).toBe(200);
  });

  it('maps every device status to a RetailCRM result', async () => {
    const expected = {
      no_answer: 'no answer',
      rejected: 'busy',
      no_action: 'failed',
      unknown: 'unknown',
    } as const;
    for (const [status, result] of Object.entries(expected)) {
      const made = await call('POST', `/retailcrm/make-call?secret=${secret}`, {
        clientId: '0367',
        phone: '+79005550000',
        code: '150',
      });
      expect(made.data.via).toBe('phone');
      const pulled = await anna.pull({ waitSeconds: 1 });
      expect(pulled).toMatchObject({ status: 'command', command: { id: made.data.command_id } });
      await anna.sendCallResult({ callRequestId: made.data.command_id, status: status as keyof typeof expected });
      await until(() => uploadsOf(made.data.command_id).length === 1, `upload of ${status}`);
      expect(uploadsOf(made.data.command_id)[0]).toMatchObject({ result, duration: 0, type: 'out', userId: 18 });
    }
  });

  it('results of calls dialled by hand (action_source manual) are stored and uploaded like click-to-call', async () => {
    const login = await call(
      'POST',
      '/api/token/',
      { username: 'anna', password: 'anna-password-1' },
      {
        'content-type': 'application/json',
      },
    );
    const bearer = { authorization: `Bearer ${login.data.access}`, 'content-type': 'application/json' };
    const me = await call('GET', '/api/phone/user/info/', undefined, bearer);
    const update = (body: Record<string, unknown>) => call('POST', '/api/phone/calls/update/', body, bearer);
    const outgoing = {
      call_request_id: 'hist-77',
      call_status: 'connected',
      call_started_at: '2026-11-23T11:00:00Z',
      call_duration_seconds: 30,
      direction: 'outgoing',
      action_source: 'manual',
      phone: '+7 (900) 111-22-33',
    };
    expect(await update(outgoing)).toEqual({ status: 200, data: { ok: true, acknowledged: false } });
    const outId = `manual-${me.data.id}-hist-77`;
    await until(() => uploadsOf(outId).length === 1, 'manual upload');
    expect(uploadsOf(outId)[0]).toEqual({
      date: '2026-11-23 11:00:00',
      type: 'out',
      phone: '+79001112233',
      code: '150',
      userId: 18,
      result: 'answered',
      duration: 30,
      externalId: outId,
    });
    // A call that came in and was answered on the phone keeps its direction.
    await update({ ...outgoing, call_request_id: 'hist-78', direction: 'incoming', call_status: 'no_answer' });
    const inId = `manual-${me.data.id}-hist-78`;
    await until(() => uploadsOf(inId).length === 1, 'incoming manual upload');
    expect(uploadsOf(inId)[0]).toMatchObject({ type: 'in', phone: '+79001112233', result: 'no answer' });

    // The device repeats the result: stored once, uploaded once.
    expect((await update(outgoing)).status).toBe(200);
    await srv.phone.uploader.drain();
    expect(uploadsOf(outId)).toHaveLength(1);
    // No number: kept for the record, never uploaded. Not manual and unknown: ignored as before.
    await update({ ...outgoing, call_request_id: 'hist-79', phone: undefined });
    expect(await srv.phone.calls.get(`manual-${me.data.id}-hist-79`)).toMatchObject({
      uploadState: 'none',
      lastError: 'manual call without a phone number',
    });
    await update({ ...outgoing, call_request_id: 'hist-80', action_source: 'history' });
    expect(await srv.phone.calls.get(`manual-${me.data.id}-hist-80`)).toBeUndefined();
    await srv.phone.uploader.drain();
    expect(uploadsOf(`manual-${me.data.id}-hist-79`)).toEqual([]);
  });

  it('RetailCRM down: the result is retried until it is uploaded once, every attempt logged', async () => {
    fake.failNext({ status: 503, method: 'POST', path: '/telephony/calls/upload', times: 2 });
    const made = await call(
      'GET',
      `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=%2B79007778899&userId=18`,
    );
    const pulled = await anna.pull({ waitSeconds: 1 });
    expect(pulled).toMatchObject({ status: 'command' });
    const ack = await anna.sendCallResult({
      callRequestId: made.data.command_id,
      status: 'connected',
      durationSeconds: 5,
    });
    expect(ack.acknowledged).toBe(true);
    await until(async () => (await srv.phone.calls.get(made.data.command_id))?.uploadState === 'uploaded', 'retry');
    expect(uploadsOf(made.data.command_id)).toHaveLength(1);
    expect(await srv.phone.calls.get(made.data.command_id)).toMatchObject({ uploadAttempts: 3 });
    const logs = await call(
      'GET',
      `/api/logs/0367?call_unique_id=${made.data.command_id}&event_type=phone_call_upload`,
    );
    expect(logs.data.items.map((l: { status: string }) => l.status)).toEqual(['success', 'error', 'error']);
    // Like the rows of PBX events, each row names the call's direction and number.
    for (const row of logs.data.items)
      expect(row).toMatchObject({ direction: 'out', phone: expect.stringMatching(/\d{5,}/) });
  });

  it('RetailCRM down for good: after maxAttempts the upload is a dead letter, visible in /stats', async () => {
    fake.failNext({ status: 503, method: 'POST', path: '/telephony/calls/upload', times: 3 });
    const made = await call(
      'GET',
      `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=%2B79007770000&userId=18`,
    );
    expect(await anna.pull({ waitSeconds: 1 })).toMatchObject({ status: 'command' });
    await anna.sendCallResult({ callRequestId: made.data.command_id, status: 'no_answer' });
    await until(async () => (await srv.phone.calls.get(made.data.command_id))?.uploadState === 'failed', 'failure');
    expect(uploadsOf(made.data.command_id)).toHaveLength(0);
    const dead = await call('GET', '/api/dead-letters?queue=phone-call-results');
    expect(dead.data.items).toMatchObject([
      { queue: 'phone-call-results', jobId: made.data.command_id, attempts: 3, payload: { result: 'no answer' } },
    ]);
    expect((await call('GET', '/stats', undefined, {})).data.phone.calls.failed).toBe(1);
  });

  it('a manager without a registered device falls back to AMI Originate', async () => {
    const made = await call('GET', `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=123456&userId=19`);
    expect(made).toMatchObject({ status: 200, data: { ok: true, extension: '151' } });
    expect(made.data.via).toBeUndefined();
    expect(originated).toEqual([{ extension: '151', phone: '123456' }]);
  });

  it('QR login for a manager: the phone account is created on the fly, the token works once', async () => {
    const qr = await call('POST', '/api/phone-admin/qr/0367', { retailcrm_user_id: '19' });
    expect(qr.status).toBe(200);
    expect(qr.data).toMatchObject({ ok: true, username: 'ext151.0367', extension: '151' });
    const boris = new PhoneClient({ baseUrl: srv.url, deviceId: 'boris-device-0002' });
    expect(await boris.loginWithQr(qr.data.token)).toEqual({ username: 'ext151.0367' });
    const replay = new PhoneClient({ baseUrl: srv.url, deviceId: 'x-device' });
    await expect(replay.loginWithQr(qr.data.token)).rejects.toBeInstanceOf(PhoneAuthError);
    await boris.registerDevice();
    const poll = boris.pull({ waitSeconds: 10 });
    await until(() => srv.phone.protocol.stats().heldPolls === 1, 'held poll');
    const made = await call('GET', `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=123456&userId=19`);
    expect(made.data.via).toBe('phone');
    expect(await poll).toMatchObject({ status: 'command', command: { id: made.data.command_id, phone: '123456' } });
    expect(originated).toHaveLength(1);
    // Someone else's device cannot resolve Boris' command; Boris' own result is the one uploaded.
    await expect(
      anna.sendCallResult({ callRequestId: made.data.command_id, status: 'connected' }),
    ).rejects.toMatchObject({ status: 409, body: { code: 'command_not_owned' } });
    await boris.sendCallResult({ callRequestId: made.data.command_id, status: 'rejected' });
    await until(() => uploadsOf(made.data.command_id).length === 1, 'upload of boris');
    expect(uploadsOf(made.data.command_id)[0]).toMatchObject({ result: 'busy', userId: 19, code: '151' });
    const users = await call('GET', '/api/phone-admin/users/0367');
    expect(users.data.users.map((u: { username: string }) => u.username)).toEqual(['anna', 'ext151.0367', 'vera']);
    expect(users.data.users[1].devices).toMatchObject([{ device_id: 'boris-device-0002', online: true }]);
  });

  it('heartbeats, telemetry and log bundles are stored and shown in /stats', async () => {
    await anna.heartbeat({ queue_stuck: true, stuck_count: 3, stuck_by_type: { call_update: 2, telemetry: 1 } });
    anna.recordTelemetry({ type: 'pull_call', endpoint: '/api/phone/calls/pull/', http_code: 204, value_ms: 25_000 });
    expect(await anna.flushTelemetry()).toBeGreaterThan(0);
    await anna.sendLogs({ payload: 'WARN masked', levelSummary: 'WARN:1', source: 'support_report' });
    const stats = await call('GET', '/stats', undefined, {});
    const phone = stats.data.phone;
    expect(phone).toMatchObject({
      command_bus: 'sql',
      devices: { registered: 2, online: 2, queue_stuck: 1, stuck_items: 3 },
      calls: { uploaded: 9, none: 1 }, // 7 click-to-call + 2 manual; the manual one without a number
    });
    expect(phone.devices.heartbeat_recent).toBeGreaterThanOrEqual(1);
    expect(phone.telemetry_last_hour.by_type.pull_call.count).toBeGreaterThan(1);
    expect(phone.telemetry_last_hour.by_http_code['204']).toBeGreaterThanOrEqual(1);
    expect(phone.telemetry_last_hour.log_bundles).toBe(1);
    const annaHealth = phone.device_health.find((d: { queue_stuck: boolean }) => d.queue_stuck);
    expect(annaHealth).toMatchObject({ device: 'anna…', app_version: '1.0.0', stuck_by_type: { call_update: 2 } });
    // /stats is unauthenticated: no full device ids.
    expect(JSON.stringify(stats.data)).not.toContain('anna-device-0001');
  });

  it('phone routes keep their own protocol errors (DRF shapes), not the admin API ones', async () => {
    const unauth = await fetch(`${srv.url}/api/phone/calls/pull/?device_id=x`);
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    const broken = await fetch(`${srv.url}/api/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toMatch(/JSON parse error/);
    const wrong = await fetch(`${srv.url}/api/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'anna', password: 'wrong-password' }),
    });
    expect(wrong.status).toBe(401);
  });

  it('/openapi.json lists the phone protocol and admin routes', async () => {
    const doc = await call('GET', '/openapi.json', undefined, {});
    expect(Object.keys(doc.data.paths)).toEqual(
      expect.arrayContaining([
        '/api/token/',
        '/api/phone/calls/pull/',
        '/api/phone/calls/update/',
        '/api/phone-admin/users/{enterpriseNumber}',
        '/api/phone-admin/qr/{enterpriseNumber}',
      ]),
    );
    const update = doc.data.paths['/api/phone/calls/update/'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(update.properties)).toEqual(expect.arrayContaining(['call_request_id', 'call_status']));
  });

  it('the long-poll is answered before Express (node:http pull handler) with the same auth, ownership, headers and metrics', async () => {
    // Every request the Express app sees; the hot path must leave the exact pull route alone.
    const app = srv.context.app as unknown as { handle: (...args: unknown[]) => unknown };
    const handle = app.handle;
    const viaExpress: string[] = [];
    app.handle = function (this: unknown, ...args: unknown[]) {
      const url = (args[0] as { url: string }).url;
      if (url.includes('/calls/pull')) viaExpress.push(url);
      return handle.apply(this, args);
    };
    const pulls = async (status: number) => {
      const values = (await srv.context.metrics.httpRequests.get()).values;
      const hit = values.find((v) => v.labels.route === PULL && v.labels.status === String(status));
      return hit?.value ?? 0;
    };
    try {
      const login = async (username: string, password: string) => {
        const r = await call('POST', '/api/token/', { username, password }, { 'content-type': 'application/json' });
        expect(r.status).toBe(200);
        return { authorization: `Bearer ${r.data.access}` };
      };
      const anna = await login('anna', 'anna-password-1');
      const pull = (query: string, headers: Record<string, string> = anna, path = PULL) =>
        fetch(`${srv.url}${path}?${query}`, { headers });

      const empties = await pulls(204);
      const empty = await pull('device_id=anna-device-0001&wait_seconds=0');
      expect(empty.status).toBe(204);
      expect(empty.headers.get('x-content-type-options')).toBe('nosniff');
      expect(empty.headers.get('content-security-policy')).toBeTruthy();
      await until(async () => (await pulls(204)) === empties + 1, 'the 204 counted under the route label');

      // A held poll answered by a command enqueued meanwhile.
      const held = pull('device_id=anna-device-0001&wait_seconds=10');
      await until(() => srv.phone.protocol.stats().heldPolls === 1, 'held poll');
      const command = await srv.phone.protocol.enqueueCommand({ deviceId: 'anna-device-0001' }, { phone: CUSTOMER });
      const answered = await held;
      expect(answered.status).toBe(200);
      expect(answered.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(answered.headers.get('x-frame-options')).toBeTruthy();
      expect(await answered.json()).toMatchObject({ id: command.id, phone: CUSTOMER });
      await srv.phone.bus.ack(command.id);

      // Auth and ownership on this path: DRF's 401 without a token, 409 for another enterprise's user.
      const anonymous = await pull('device_id=anna-device-0001', {});
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(await anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
      const forged = await pull('device_id=anna-device-0001', { authorization: `${anna.authorization}x` });
      expect(forged.status).toBe(401);
      expect(
        (await call('POST', '/api/phone-admin/users/0500', { username: 'hugo', password: 'hugo-password-1' })).status,
      ).toBe(201);
      const foreign = await pull('device_id=anna-device-0001&wait_seconds=0', await login('hugo', 'hugo-password-1'));
      expect(foreign.status).toBe(409);
      expect(await foreign.json()).toMatchObject({ code: 'device_not_owned' });
      expect(viaExpress).toEqual([]);

      // Other spellings still go through Express, and answer the same way with the same headers.
      const slashless = await pull('device_id=anna-device-0001&wait_seconds=0', anna, '/api/phone/calls/pull');
      expect(slashless.status).toBe(204);
      const names = (res: Response) => [...res.headers.keys()].filter((n) => n !== 'date').sort();
      expect(names(empty)).toEqual(names(slashless));
      const nul = await pull('device_id=anna%00', anna);
      expect(nul.status).toBe(400);
      expect(await nul.json()).toMatchObject({ error: 'nul_character' });
      expect(viaExpress).toEqual([
        '/api/phone/calls/pull?device_id=anna-device-0001&wait_seconds=0',
        `${PULL}?device_id=anna%00`,
      ]);
    } finally {
      app.handle = handle;
    }
  });

  it('graceful shutdown answers a held poll with 204 at once', async () => {
    const poll = anna.pull({ waitSeconds: 25 });
    await until(() => srv.phone.protocol.stats().heldPolls === 1, 'held poll');
    const started = Date.now();
    const closing = srv.close();
    expect(await poll).toMatchObject({ status: 'empty' });
    expect(Date.now() - started).toBeLessThan(1000);
    await closing;
  });
});
