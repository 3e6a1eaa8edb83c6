import { request } from 'node:http';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testClientFactory, testEnv } from './helpers.js';

const fake = createFakeRetailCrm({
  rateLimit: false,
  users: [
    { id: 18, firstName: 'Anna', lastName: 'Petrova' },
    { id: 19, firstName: 'Boris', lastName: 'Ivanov' },
    { id: 22, firstName: 'Vera', lastName: 'Sidorova' },
  ],
});
const msw = setupServer(...fake.handlers);
const ADMIN = testEnv.ADMIN_TOKEN;

let srv: RunningServer;
let base: string;

async function call(
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; form?: Record<string, string>; raw?: string; type?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.raw !== undefined) {
    headers['content-type'] = opts.type ?? 'application/json';
    body = opts.raw;
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(text);
  } catch {
    data = { text };
  }
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected ad hoc in assertions
  return { status: res.status, data: data as Record<string, any>, text };
}

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  const config = loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' });
  srv = await startServer({
    config,
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
  });
  base = srv.url;
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop 0367', pbxToken: 'pbx-0367' });
  await srv.storage.upsertEnterprise({ number: '0500', name: 'Other', pbxToken: 'pbx-0500' });
  const uid = await srv.storage.createUser({ enterpriseNumber: '0367', firstName: 'Julai', lastName: 'Junovy' });
  for (const p of ['150', '151', '152']) {
    await srv.storage.upsertInternalPhone({
      enterpriseNumber: '0367',
      phoneNumber: p,
      userId: p === '150' ? uid : null,
    });
  }
});

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('auth', () => {
  it('refuses unauthenticated and wrong tokens on every admin prefix', async () => {
    for (const prefix of ['/api', '/retailcrm-admin/api']) {
      const none = await call('GET', `${prefix}/config/0367`);
      expect(none.status).toBe(401);
      expect(none.data).toMatchObject({ ok: false, error: 'unauthorized' });
      expect((await call('GET', `${prefix}/config/0367`, { token: 'nope' })).status).toBe(401);
      expect((await call('GET', `${prefix}/config/0367`, { token: `${ADMIN}x` })).status).toBe(401);
      expect((await call('GET', `${prefix}/config/0367`, { token: ADMIN })).status).toBe(200);
    }
  });

  it('accepts X-Admin-Token too', async () => {
    const res = await fetch(`${base}/api/config/0367`, { headers: { 'x-admin-token': ADMIN } });
    expect(res.status).toBe(200);
  });
});

describe('config CRUD', () => {
  it('404 for an unknown enterprise, 400 for a malformed number', async () => {
    expect((await call('GET', '/api/config/9999', { token: ADMIN })).data).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect((await call('GET', '/api/config/bad%20num', { token: ADMIN })).status).toBe(400);
  });

  it('PUT validates, encrypts the key at rest and never returns it in full', async () => {
    const bad = await call('PUT', '/api/config/0367', { token: ADMIN, json: { domain: 'not a domain', api_key: 'k' } });
    expect(bad.status).toBe(422);
    expect(bad.data.error).toBe('validation_failed');

    const noKey = await call('PUT', '/api/config/0367', { token: ADMIN, json: { domain: 'demo.retailcrm.ru' } });
    expect(noKey.status).toBe(422);

    const ok = await call('PUT', '/api/config/0367', {
      token: ADMIN,
      json: { domain: 'demo.retailcrm.ru', api_key: FAKE_RETAILCRM_API_KEY, enabled: true, unknown_field: 1 },
    });
    expect(ok.status).toBe(200);
    expect(ok.data.config).toMatchObject({ domain: 'https://demo.retailcrm.ru', enabled: true, has_api_key: true });
    expect(ok.data.config.api_key).toBe(`${FAKE_RETAILCRM_API_KEY.slice(0, 4)}****${FAKE_RETAILCRM_API_KEY.slice(-4)}`);
    expect(ok.text).not.toContain(FAKE_RETAILCRM_API_KEY);

    const stored = (await srv.storage.getEnterprise('0367'))?.integrationsConfig.retailcrm as Record<string, string>;
    expect(stored.api_key).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toContain(FAKE_RETAILCRM_API_KEY);

    const got = await call('GET', '/api/config/0367', { token: ADMIN });
    expect(got.data.enterprise).toEqual({ number: '0367', name: 'Shop 0367', active: true });
    expect(got.text).not.toContain(FAKE_RETAILCRM_API_KEY);
  });

  it('sending the masked key back keeps the stored key', async () => {
    const before = (await srv.storage.getEnterprise('0367'))?.integrationsConfig.retailcrm as Record<string, string>;
    const res = await call('PATCH', '/api/config/0367', {
      token: ADMIN,
      json: { api_key: 'abcd****wxyz', enabled: false },
    });
    expect(res.status).toBe(200);
    const after = (await srv.storage.getEnterprise('0367'))?.integrationsConfig.retailcrm as Record<string, string>;
    expect(after.api_key).toBe(before.api_key);
    expect(res.data.config.enabled).toBe(false);
  });

  it('accepts form bodies (booleans as strings)', async () => {
    const res = await call('PATCH', '/retailcrm-admin/api/config/0367', {
      token: ADMIN,
      form: { enabled: 'on', 'events[history]': 'false' },
    });
    expect(res.status).toBe(200);
    expect(res.data.config.enabled).toBe(true);
    expect(res.data.config.events).toMatchObject({ history: false, incoming: true });
  });

  it('broken, empty and foreign bodies are 4xx with a code, never 500', async () => {
    const broken = await call('PUT', '/api/config/0367', { token: ADMIN, raw: '{"domain":' });
    expect(broken.status).toBe(400);
    expect(broken.data).toMatchObject({ ok: false, error: 'invalid_json' });
    const empty = await call('PUT', '/api/config/0367', { token: ADMIN, raw: '' });
    expect(empty.status).toBe(422);
    expect(empty.data.error).toBe('validation_failed');
    const noBody = await call('PUT', '/api/config/0367', { token: ADMIN });
    expect(noBody.status).toBe(422);
    const text = await call('PUT', '/api/config/0367', { token: ADMIN, raw: 'domain=x', type: 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.data.error).toBe('unsupported_media_type');
    const arr = await call('PUT', '/api/config/0367', { token: ADMIN, raw: '[1,2]' });
    expect(arr.status).toBe(422);
    const big = await call('PUT', '/api/config/0367', { token: ADMIN, json: { domain: 'x'.repeat(200_000) } });
    expect(big.status).toBe(413);
    expect(big.data.error).toBe('payload_too_large');
  });
});

describe('RetailCRM flows against the fake', () => {
  it('tests the connection and logs it', async () => {
    const ok = await call('POST', '/api/test/0367', { token: ADMIN });
    expect(ok.status).toBe(200);
    expect(ok.data).toMatchObject({ ok: true, domain: 'https://demo.retailcrm.ru' });
    const bad = await call('POST', '/api/test/0367', { token: ADMIN, json: { api_key: 'wrong-key-123456' } });
    expect(bad.status).toBe(502);
    expect(bad.data.error).toBe('retailcrm_auth');
    expect(bad.text).not.toContain('wrong-key-123456');
    const logs = await call('GET', '/api/logs/0367?event_type=test_connection', { token: ADMIN });
    expect(logs.data.items.map((l: { status: string }) => l.status)).toEqual(['error', 'success']);
  });

  let accountUrl = '';
  it('registers the module with an account JWT that opens exactly this enterprise', async () => {
    const reg = await call('POST', '/api/register/0367', { token: ADMIN, json: {} });
    expect(reg.status).toBe(200);
    accountUrl = reg.data.account_url;
    const u = new URL(accountUrl);
    expect(u.origin + u.pathname).toBe('http://pbx.test/retailcrm-admin/');
    expect(u.searchParams.get('enterprise_number')).toBe('0367');
    const module = fake.state.integrationModules.get('callbridge-telephony');
    expect(module).toMatchObject({ active: true, clientId: '0367', baseUrl: 'http://pbx.test' });
    expect(module?.accountUrl).toBe(accountUrl);

    const jwt = u.searchParams.get('token') as string;
    expect((await call('GET', '/retailcrm-admin/api/config/0367', { token: jwt })).status).toBe(200);
    expect((await call('GET', '/retailcrm-admin/api/config/0500', { token: jwt })).status).toBe(403);
    expect((await call('POST', '/api/config-cache/refresh-all', { token: jwt })).status).toBe(403);
    const logs = await call('GET', '/api/logs/0367?event_type=register_module', { token: jwt });
    expect(logs.data.items[0]).toMatchObject({ status: 'success' });
    expect(JSON.stringify(logs.data)).not.toContain(jwt);
  });

  it('re-registration rotates the link; unregister revokes it', async () => {
    const oldJwt = new URL(accountUrl).searchParams.get('token') as string;
    const reg = await call('POST', '/api/register/0367', { token: oldJwt });
    expect(reg.status).toBe(200);
    const newJwt = new URL(reg.data.account_url).searchParams.get('token') as string;
    expect(newJwt).not.toBe(oldJwt);
    expect((await call('GET', '/api/config/0367', { token: oldJwt })).status).toBe(401);
    expect((await call('GET', '/api/config/0367', { token: newJwt })).status).toBe(200);

    const un = await call('POST', '/api/unregister/0367', { token: newJwt });
    expect(un.data).toMatchObject({ ok: true, retailcrm: { ok: true } });
    expect(fake.state.integrationModules.get('callbridge-telephony')?.active).toBe(false);
    expect((await call('GET', '/api/config/0367', { token: newJwt })).status).toBe(401);
    const again = await call('POST', '/api/register/0367', { token: ADMIN });
    accountUrl = again.data.account_url;
  });

  it('saves extensions: one per manager, reassignment removes the old owner, additionalCodes synced', async () => {
    const unknown = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      json: { extensions: { '19': '999' } },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.data.error).toBe('unknown_extension');
    const dup = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      json: { extensions: { '18': '150', '19': '150' } },
    });
    expect(dup.data.error).toBe('duplicate_extension');

    const first = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      json: { extensions: { '18': '150', '19': '151' } },
    });
    expect(first.data).toMatchObject({ ok: true, user_extensions: { '18': '150', '19': '151' }, sync: { ok: true } });
    const moved = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      form: { user_id: '22', extension: '150' },
    });
    expect(moved.data).toMatchObject({ user_extensions: { '19': '151', '22': '150' }, displaced: ['18'] });
    const codes = fake.state.integrationModules.get('callbridge-telephony')?.integrations?.telephony?.additionalCodes;
    expect(codes).toEqual([
      { userId: '19', code: '151' },
      { userId: '22', code: '150' },
    ]);

    // A settings save must not wipe the assignments (the original did).
    await call('PUT', '/api/config/0367', {
      token: ADMIN,
      json: { domain: 'https://demo.retailcrm.ru', enabled: true },
    });
    const after = await call('GET', '/api/user-extensions/0367', { token: ADMIN });
    expect(after.data.user_extensions).toEqual({ '19': '151', '22': '150' });

    const unassign = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      json: { extensions: { '19': null } },
    });
    expect(unassign.data.user_extensions).toEqual({ '22': '150' });
  });

  it('lists managers with local and RetailCRM extensions, and internal phones with owners', async () => {
    const res = await call('GET', '/api/managers/0367', { token: ADMIN });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.data.managers.map((m: { id: number }) => [m.id, m]));
    expect(byId[22]).toMatchObject({ first_name: 'Vera', extension: '150', retailcrm_extension: '150' });
    expect(byId[18]).toMatchObject({ extension: null });
    const phones = await call('GET', '/api/internal-phones/0367', { token: ADMIN });
    expect(phones.data.phones).toEqual([
      { phone_number: '150', owner_user_id: expect.any(Number), owner_name: 'Julai Junovy', retailcrm_user_id: '22' },
      { phone_number: '151', owner_user_id: null, owner_name: null, retailcrm_user_id: null },
      { phone_number: '152', owner_user_id: null, owner_name: null, retailcrm_user_id: null },
    ]);
  });

  it('keeps the local save when RetailCRM is down and reports the failed sync', async () => {
    fake.failNext({ status: 500, path: /integration-modules/, times: 1 });
    const res = await call('POST', '/api/save-extensions/0367', {
      token: ADMIN,
      json: { extensions: { '18': '152' } },
    });
    expect(res.status).toBe(200);
    expect(res.data.sync).toMatchObject({ ok: false });
    expect(res.data.user_extensions).toEqual({ '22': '150', '18': '152' });
    const logs = await call('GET', '/api/logs/0367?event_type=sync_extensions&status=error', { token: ADMIN });
    expect(logs.data.total).toBeGreaterThanOrEqual(1);
  });
});

describe('logs paging and config cache', () => {
  it('pages logs and validates the query', async () => {
    const p1 = await call('GET', '/api/logs/0367?limit=2', { token: ADMIN });
    expect(p1.data.items).toHaveLength(2);
    const p2 = await call('GET', '/api/logs/0367?limit=2&offset=2', { token: ADMIN });
    expect(p2.data.items[0].id).toBeLessThan(p1.data.items[1].id);
    expect((await call('GET', '/api/logs/0367?limit=1000', { token: ADMIN })).status).toBe(400);
  });

  it('the cache follows saves through the NOTIFY trigger and serves the endpoints', async () => {
    await call('PATCH', '/api/config/0367', { token: ADMIN, json: { enabled: true } });
    const active = await call('GET', '/api/config-cache/active-enterprises', { token: ADMIN });
    await expect
      .poll(async () => (await call('GET', '/api/config-cache/active-enterprises', { token: ADMIN })).data.enterprises)
      .toEqual(['0367']);
    expect(active.status).toBe(200);
    // A change made directly in the database (another instance) reaches the cache via NOTIFY.
    await srv.storage.updateIntegrationConfig('0367', 'retailcrm', (c) => ({ ...c, enabled: false }));
    await expect.poll(async () => (await srv.configCache.get('0367'))?.retailcrm?.enabled).toBe(false);
    await expect.poll(async () => (await srv.enablementCache.get('0367'))?.retailcrm).toBe(false);
    const refreshed = await call('POST', '/api/config-cache/refresh/0367', { token: ADMIN });
    expect(refreshed.data).toMatchObject({ ok: true, found: true, enabled: false });
    expect((await call('POST', '/api/config-cache/refresh-all', { token: ADMIN })).data.ok).toBe(true);
    expect((await call('POST', '/api/config-cache/refresh/0500', { token: ADMIN })).data.found).toBe(true);
  });

  it('lists dead letters for the operator only', async () => {
    await srv.storage.insertDeadLetter({
      queue: 'telephony-deliveries',
      enterpriseNumber: '0367',
      jobId: 'j',
      payload: { a: 1 },
      errorMessage: 'x',
      attempts: 5,
    });
    const res = await call('GET', '/api/dead-letters?queue=telephony-deliveries', { token: ADMIN });
    expect(res.data.items).toMatchObject([{ jobId: 'j', attempts: 5 }]);
    const reg = await call('POST', '/api/register/0367', { token: ADMIN });
    const jwt = new URL(reg.data.account_url).searchParams.get('token') as string;
    expect((await call('GET', '/api/dead-letters', { token: jwt })).status).toBe(403);
    expect((await call('GET', '/api/whoami', { token: jwt })).data.principal).toEqual({
      kind: 'enterprise',
      enterpriseNumber: '0367',
    });
  });
});

describe('system routes', () => {
  it('health, ready, stats, metrics', async () => {
    expect((await call('GET', '/health')).data).toMatchObject({ ok: true });
    expect((await call('GET', '/ready')).data).toMatchObject({ ok: true, checks: { storage: 'ok' } });
    const stats = await call('GET', '/stats');
    expect(stats.data).toMatchObject({ ok: true, storage: 'pglite', dead_letters: 1 });
    expect(stats.data.config_cache).toBeTruthy();
    const metrics = await fetch(`${base}/metrics`);
    const text = await metrics.text();
    expect(text).toContain('callbridge_http_requests_total');
    expect(text).toContain('callbridge_auth_failures_total');
    expect(text).not.toContain(FAKE_RETAILCRM_API_KEY);
  });

  it('security headers and JSON 404', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeTruthy();
    expect(await res.json()).toMatchObject({ ok: false, error: 'not_found' });
  });
});

describe('DELETE config', () => {
  it('removes the integration, deactivates the module and revokes account links', async () => {
    const reg = await call('POST', '/api/register/0367', { token: ADMIN });
    const jwt = new URL(reg.data.account_url).searchParams.get('token') as string;
    const del = await call('DELETE', '/api/config/0367', { token: jwt });
    expect(del.data).toMatchObject({ ok: true, retailcrm: { ok: true } });
    expect(fake.state.integrationModules.get('callbridge-telephony')?.active).toBe(false);
    expect((await call('GET', '/api/config/0367', { token: jwt })).status).toBe(401);
    const after = await call('GET', '/api/config/0367', { token: ADMIN });
    expect(after.data.config).toMatchObject({
      domain: null,
      has_api_key: false,
      registered: false,
      user_extensions: {},
    });
    expect((await call('POST', '/api/register/0367', { token: ADMIN })).data.error).toBe('not_configured');
  });
});

describe('openapi and graceful shutdown', () => {
  it('serves /openapi.json', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.data.openapi).toBe('3.1.0');
  });

  it('finishes an in-flight request, then refuses new connections', async () => {
    const second = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
      logger: createLogger('silent'),
      inMemory: true,
    });
    // A request whose body is still arriving when shutdown starts.
    const body = JSON.stringify({ domain: 'demo.retailcrm.ru' });
    const { port } = new URL(second.url);
    const responded = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/config/0367',
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5));
      second.server.once('request', () => {
        closing = second.close();
        setTimeout(() => req.end(body.slice(5)), 50);
      });
    });
    let closing: Promise<void> | undefined;
    expect(await responded).toBe(401);
    await closing;
    await expect(fetch(`${second.url}/health`)).rejects.toThrow();
  });
});
