import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../src/testing/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;
let clock: ManualClock;

async function post(path: string, body: unknown, access?: string, contentType = 'application/json') {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(access ? { authorization: `Bearer ${access}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function get(path: string, access?: string) {
  const res = await fetch(server.url + path, { headers: access ? { authorization: `Bearer ${access}` } : {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function login(username = 'operator1', password = 'secret-pass') {
  const res = await post('/api/token/', { username, password });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string; is_admin: boolean };
}

beforeEach(async () => {
  clock = createManualClock(Date.now());
  server = await startServer({ clock, pull: { rateLimit: false } });
});
afterEach(async () => server.close());

describe('auth (simplejwt-compatible)', () => {
  it('issues access + refresh + is_admin and tolerates unknown fields', async () => {
    const res = await post('/api/token/', { username: 'operator1', password: 'secret-pass', app: 'x' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access: expect.any(String), refresh: expect.any(String), is_admin: true });
    const info = await get('/api/phone/user/info/', res.body.access);
    expect(info.body).toEqual({ id: 'u1', username: 'operator1', is_admin: true, is_active: true });
  });

  it('bad credentials: 401 {detail} without code, same for unknown users', async () => {
    for (const body of [
      { username: 'operator1', password: 'wrong' },
      { username: 'nobody', password: 'secret-pass' },
    ]) {
      const res = await post('/api/token/', body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'No active account found with the given credentials' });
    }
  });

  it('missing fields: 400 DRF-style field errors', async () => {
    const res = await post('/api/token/', { username: 'operator1' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ password: ['This field is required.'] });
  });

  it('broken JSON is a 400, not a 500', async () => {
    const res = await post('/api/token/', '{"username":', undefined);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/JSON parse error/);
  });

  it('protected endpoints: 401 without credentials, token_not_valid for bad or expired tokens', async () => {
    expect(await get('/api/phone/user/info/')).toMatchObject({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    const bad = await get('/api/phone/user/info/', 'not-a-jwt');
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ code: 'token_not_valid', detail: 'Given token not valid for any token type' });

    const { access, refresh } = await login();
    // A refresh token is not an access token.
    expect((await get('/api/phone/user/info/', refresh)).body.code).toBe('token_not_valid');
    clock.advance(301_000); // access TTL is 300 s by default
    expect((await get('/api/phone/user/info/', access)).body.code).toBe('token_not_valid');
  });

  it('refresh returns a new access and refresh token (rotation); expired/invalid refresh is 401', async () => {
    const { refresh } = await login();
    clock.advance(301_000);
    const res = await post('/api/token/refresh/', { refresh });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
    expect((await get('/api/phone/user/info/', res.body.access)).status).toBe(200);
    clock.advance(86_400_000);
    expect(await post('/api/token/refresh/', { refresh: res.body.refresh })).toMatchObject({
      status: 401,
      body: { detail: 'Token is invalid or expired', code: 'token_not_valid' },
    });
  });

  it('QR tokens are single-use and expire', async () => {
    const { token } = await server.protocol.createQrToken('u2');
    const ok = await post('/api/phone/qr/exchange/', { token });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ access: expect.any(String), refresh: expect.any(String), username: 'operator2' });
    expect((await post('/api/phone/qr/exchange/', { token })).status).toBe(401);

    const late = await server.protocol.createQrToken('u2');
    clock.advance(121_000);
    const res = await post('/api/phone/qr/exchange/', { qr_token: late.token });
    expect(res).toMatchObject({ status: 401, body: { code: 'qr_token_invalid' } });
  });
});

describe('devices, calls, telemetry, logs', () => {
  it('registers a device (fcm_token optional) and records heartbeats in the online view', async () => {
    const { access } = await login();
    expect(await post('/api/phone/devices/register/', { device_id: 'd1', device_name: 'Redmi' }, access)).toMatchObject(
      {
        status: 200,
        body: { ok: true, device_id: 'd1' },
      },
    );
    const hb = await post(
      '/api/phone/devices/heartbeat/',
      {
        device_id: 'd1',
        app_version: '1.0.0',
        last_poll_code: 204,
        last_poll_at: '2026-02-10T10:10:00Z',
        encryption_enabled: true,
        queue_stuck: true,
        stuck_count: 12,
        oldest_stuck_age_sec: 3600,
        stuck_by_type: { call_update: 10, telemetry: 2 },
        future_field: { nested: 1 },
      },
      access,
    );
    expect(hb.status).toBe(200);
    const [device] = await server.protocol.onlineDevices();
    expect(device).toMatchObject({
      deviceId: 'd1',
      userId: 'u1',
      deviceName: 'Redmi',
      appVersion: '1.0.0',
      queueStuck: true,
      stuckCount: 12,
      stuckByType: { call_update: 10, telemetry: 2 },
      lastPollCode: 204,
    });
    clock.advance(91_000);
    expect(await server.protocol.onlineDevices()).toEqual([]);
  });

  it('a device registered to another user is refused with 409 device_not_owned on poll', async () => {
    const a = await login();
    await post('/api/phone/devices/register/', { device_id: 'shared' }, a.access);
    const b = await login('operator2', 'other-pass');
    const res = await get('/api/phone/calls/pull/?device_id=shared&wait_seconds=0', b.access);
    expect(res).toMatchObject({ status: 409, body: { code: 'device_not_owned' } });
  });

  it('registering a device owned by another user is 409 and changes nothing; an admin release frees it', async () => {
    const a = await login();
    expect((await post('/api/phone/devices/register/', { device_id: 'owned' }, a.access)).status).toBe(200);
    const b = await login('operator2', 'other-pass');
    const takeover = await post('/api/phone/devices/register/', { device_id: 'owned' }, b.access);
    expect(takeover).toMatchObject({ status: 409, body: { code: 'device_not_owned' } });
    expect((await server.devices.get('owned'))?.userId).toBe('u1');
    // The owner keeps working and still receives its commands; the other user cannot poll or heartbeat it.
    expect((await post('/api/phone/devices/register/', { device_id: 'owned' }, a.access)).status).toBe(200);
    expect((await post('/api/phone/devices/heartbeat/', { device_id: 'owned' }, b.access)).status).toBe(409);
    await server.devices.release('owned');
    expect((await post('/api/phone/devices/register/', { device_id: 'owned' }, b.access)).status).toBe(200);
    expect((await server.devices.get('owned'))?.userId).toBe('u2');
  });

  it('with tenants, ownership is (tenant, user): the same user moved to another tenant does not keep it', async () => {
    await server.close();
    const tenants: Record<string, string> = { u1: '1001', u2: '2002' };
    server = await startServer({ clock, tenantOf: (u) => tenants[u.id] });
    const a = await login();
    expect((await post('/api/phone/devices/register/', { device_id: 'dev-1001' }, a.access)).status).toBe(200);
    expect(await server.devices.get('dev-1001')).toMatchObject({ userId: 'u1', tenant: '1001' });
    const b = await login('operator2', 'other-pass');
    expect((await post('/api/phone/devices/register/', { device_id: 'dev-1001' }, b.access)).status).toBe(409);
    tenants.u1 = '2002';
    expect((await post('/api/phone/devices/register/', { device_id: 'dev-1001' }, a.access)).status).toBe(409);
    expect((await get('/api/phone/calls/pull/?device_id=dev-1001&wait_seconds=0', a.access)).status).toBe(409);
  });

  it('pull: 200 {id, phone} when a command is queued for the user, 204 otherwise', async () => {
    const { access } = await login();
    await post('/api/phone/devices/register/', { device_id: 'd1' }, access);
    expect((await get('/api/phone/calls/pull/?device_id=d1&wait_seconds=0', access)).status).toBe(204);
    await server.protocol.enqueueCommand({ username: 'operator1' }, { id: '12345', phone: '+79991234567' });
    const res = await get('/api/phone/calls/pull/?device_id=d1&wait_seconds=0', access);
    expect(res).toMatchObject({ status: 200, body: { id: '12345', phone: '+79991234567' } });
  });

  it('calls/update accepts legacy and extended payloads, validates statuses and acks idempotently', async () => {
    const results: Array<{ format: string; command?: unknown }> = [];
    await server.close();
    server = await startServer({ clock, onCallResult: (e) => void results.push(e) });
    const { access } = await login();
    await server.protocol.enqueueCommand({ deviceId: 'd1' }, { id: '12345', phone: '+79991234567' });
    const legacy = {
      call_request_id: '12345',
      call_status: 'connected',
      call_started_at: '2026-02-10T10:00:00Z',
      call_duration_seconds: 42,
    };
    expect(await post('/api/phone/calls/update/', legacy, access)).toMatchObject({
      status: 200,
      body: { ok: true, acknowledged: true },
    });
    // Idempotent: the same result again is fine, just not a new acknowledgement.
    expect((await post('/api/phone/calls/update/', legacy, access)).body).toEqual({ ok: true, acknowledged: false });
    const extended = {
      ...legacy,
      call_request_id: 777,
      call_ended_at: '2026-02-10T10:00:42Z',
      direction: 'outgoing',
      resolve_method: 'observer',
      attempts_count: 1,
      action_source: 'crm_ui',
    };
    expect((await post('/api/phone/calls/update/', extended, access)).status).toBe(200);
    expect(results.map((r) => r.format)).toEqual(['legacy', 'legacy', 'extended']);
    expect(results[0]?.command).toMatchObject({ id: '12345', phone: '+79991234567' });

    const badStatus = await post('/api/phone/calls/update/', { ...legacy, call_status: 'busy' }, access);
    expect(badStatus.status).toBe(400);
    expect(badStatus.body).toHaveProperty('call_status');
    const badSource = await post('/api/phone/calls/update/', { ...extended, action_source: 'robot' }, access);
    expect(badSource.status).toBe(400);
    expect((await post('/api/phone/calls/update/', 'x=1', access, 'text/plain')).status).toBe(415);
  });

  it("another user's device command cannot be acknowledged", async () => {
    const a = await login();
    await post('/api/phone/devices/register/', { device_id: 'da' }, a.access);
    await server.protocol.enqueueCommand({ deviceId: 'da' }, { id: 'mine', phone: '+7000' });
    const b = await login('operator2', 'other-pass');
    const body = { call_request_id: 'mine', call_status: 'connected' };
    expect(await post('/api/phone/calls/update/', body, b.access)).toMatchObject({
      status: 409,
      body: { code: 'command_not_owned' },
    });
    expect((await post('/api/phone/calls/update/', body, a.access)).body).toEqual({ ok: true, acknowledged: true });
  });

  it('a failing onCallResult answers 503 and leaves the command unacknowledged', async () => {
    await server.close();
    let fail = true;
    server = await startServer({
      clock,
      onCallResult: () => {
        if (fail) throw new Error('crm down');
      },
    });
    const { access } = await login();
    await server.protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7999' });
    const body = { call_request_id: 'c1', call_status: 'no_answer' };
    expect((await post('/api/phone/calls/update/', body, access)).status).toBe(503);
    expect(await server.bus.get('c1')).toBeDefined();
    fail = false;
    expect((await post('/api/phone/calls/update/', body, access)).body).toEqual({ ok: true, acknowledged: true });
  });

  it('telemetry batches and log bundles reach their hooks', async () => {
    await server.close();
    const seen: unknown[] = [];
    server = await startServer({
      clock,
      onTelemetry: (batch, ctx) => void seen.push(['t', batch.items.length, ctx.device.deviceId]),
      onLogs: (bundle) => void seen.push(['l', bundle.level_summary]),
    });
    const { access } = await login();
    const telemetry = {
      device_id: 'd1',
      items: [
        {
          ts: '2026-02-10T10:10:00Z',
          type: 'pull_call',
          endpoint: '/api/phone/calls/pull/',
          http_code: 204,
          value_ms: 25000,
          extra: { mode: 'LONG_POLL' },
        },
      ],
    };
    expect((await post('/api/phone/telemetry/', telemetry, access)).body).toEqual({ ok: true, accepted: 1 });
    const logs = { device_id: 'd1', ts: '2026-02-10T10:15:00Z', level_summary: 'WARN:12 ERROR:1', payload: 'x' };
    expect((await post('/api/phone/logs/', { ...logs, source: 'support_report' }, access)).status).toBe(200);
    expect((await post('/api/phone/telemetry/', { device_id: 'd1' }, access)).status).toBe(400);
    expect(seen).toEqual([
      ['t', 1, 'd1'],
      ['l', 'WARN:12 ERROR:1'],
    ]);
  });

  it('handle(): unknown paths are 404 and wrong methods 405', async () => {
    const req = { method: 'GET', path: '/api/phone/nothing/', query: {}, headers: {}, body: undefined };
    expect((await server.protocol.handle(req)).status).toBe(404);
    const viaHandle = await server.protocol.handle({
      method: 'GET',
      path: '/api/token',
      query: {},
      headers: {},
      body: undefined,
    });
    expect(viaHandle.status).toBe(405);
    expect(viaHandle.headers.Allow).toBe('POST');
  });
});

describe('refresh rotation', () => {
  it('returns a new refresh token when rotation is enabled', async () => {
    await server.close();
    server = await startServer({
      clock,
      auth: { secret: 'rotation-secret-rotation-secret-0123456', rotateRefreshTokens: true },
    });
    const { refresh } = await login();
    clock.advance(1000);
    const res = await post('/api/token/refresh/', { refresh });
    expect(res.status).toBe(200);
    expect(res.body.refresh).toEqual(expect.any(String));
    expect(res.body.refresh).not.toBe(refresh);
  });
});

describe('failures', () => {
  it('a broken store is a logged 500 with a generic body, never a stack trace', async () => {
    await server.close();
    const logged: Array<[string | undefined, object]> = [];
    const broken = {
      findByUsername: async () => {
        throw new Error('store offline');
      },
      findById: async () => undefined,
      save: async () => {},
    };
    server = await startServer({
      clock,
      users: broken,
      logger: { warn: () => {}, error: (obj, msg) => void logged.push([msg, obj]) },
    });
    const res = await post('/api/token/', { username: 'operator1', password: 'secret-pass' });
    expect(res).toMatchObject({ status: 500, body: { detail: 'Internal server error.' } });
    expect(logged).toEqual([['phone tokenObtain failed', { code: undefined, message: 'store offline' }]]);
  });
});
