import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHostPolicy, DEFAULT_RETAILCRM_HOSTS } from '../src/retailcrm/host-policy.js';
import type { RunningServer } from '../src/server.js';
import { testEnv } from './helpers.js';
import { HARDENED_INTERNAL_TOKEN, HARDENED_PUBLIC_KEY, startHardenedServer } from './support/hardened-server.js';
import { listRoutes, type RawResponse, rawRequest } from './support/routes.js';

const PUBLIC_KEY = HARDENED_PUBLIC_KEY;
const INTERNAL = HARDENED_INTERNAL_TOKEN;
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };
const json = { 'content-type': 'application/json' };

/** A refusal of the input: 4xx with a machine-readable code, never a 5xx. */
function expectRefused(r: RawResponse, where: string) {
  expect(r.status, `${where} -> ${r.status} ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(r.status, `${where} -> ${r.status} ${r.body.slice(0, 200)}`).toBeLessThan(500);
  const j = r.json ?? {};
  const code = j.error ?? j.code ?? j.detail;
  expect(code, `${where}: no code in ${r.body.slice(0, 200)}`).toBeDefined();
}

// One server for every block (starting one costs seconds on a loaded machine). The test env sets the SSRF
// guard's development flag (RETAILCRM_ALLOW_LOOPBACK) for the fake RetailCRM servers of the other suites.
let srv: RunningServer;
const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) =>
  rawRequest(`${srv.url}${path}`, method, headers, body);

beforeAll(async () => {
  srv = await startHardenedServer();
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
}, 180_000);
afterAll(async () => {
  await srv?.close();
});

describe('bad input is a 4xx with a code (regressions of the fuzzed 500s)', () => {
  it('NUL bytes in path, query and body values (PostgreSQL rejects 0x00)', async () => {
    const cases: Array<[string, string, Record<string, string>, string?]> = [
      ['GET', '/api/config/03%0067', admin],
      ['GET', '/api/logs/0367?event_type=a%00b', admin],
      ['POST', '/api/events', { ...json, 'x-pbx-token': 'pbx\u0000' }, '{}'],
      ['POST', '/api/events', json, JSON.stringify({ enterprise_number: '03\u000067', event_type: 'dial' })],
      ['POST', '/api/token/', json, JSON.stringify({ username: 'ann\u0000a', password: 'x' })],
      ['POST', '/api/phone/qr/exchange/', json, JSON.stringify({ token: 'a\u0000' })],
      ['GET', '/retailcrm/make-call?clientId=03%0067&secret=x&phone=123', {}],
      ['POST', '/retailcrm/status', { 'content-type': 'application/x-www-form-urlencoded' }, 'clientId=a%00b'],
      ['GET', `/pub/settings/get?tenant=1&k=${PUBLIC_KEY}%00`, {}],
      ['POST', '/webhook?token=a%00', json, JSON.stringify({ event: 'ready', tenant: 1 })],
    ];
    for (const [method, path, headers, body] of cases) {
      // Node refuses a NUL in a header value on the client side: skip what cannot be sent.
      const r = await send(method, path, headers, body).catch(() => undefined);
      if (r) expectRefused(r, `${method} ${path} ${body ?? ''}`);
    }
  });

  it('unpaired surrogates in JSON strings (PostgreSQL rejects them in text and jsonb)', async () => {
    const lone = (v: string) => JSON.stringify({ username: v, password: 'x', token: v });
    for (const v of ['\ud800', 'x\udfff', 'x\ud83d']) {
      for (const path of ['/api/token/', '/api/phone/qr/exchange/']) {
        const r = await send('POST', path, json, lone(v));
        expectRefused(r, `POST ${path} ${JSON.stringify(v)}`);
      }
    }
  });

  it('tenant ids above 2^31-1 are invalid tenants, not database errors', async () => {
    const big = '3000000000';
    expectRefused(await send('GET', `/pub/settings/get?tenant=${big}&k=${PUBLIC_KEY}`), 'pub settings');
    expectRefused(await send('GET', `/admin/provider-token/${big}`, admin), 'admin provider-token');
    expectRefused(await send('GET', `/admin/keys/list?tenant=${big}`, admin), 'admin keys list');
    expectRefused(await send('POST', `/internal/tenant/${big}/ensure`, { 'x-auth-token': INTERNAL }), 'internal');
    // Webhooks: a 4xx, not 503 auth_unavailable (providers would retry forever).
    const hook = await send('POST', `/webhook/avito/${big}?token=t`, json, '{}');
    expectRefused(hook, 'avito webhook');
    const wa = await send('POST', '/webhook?token=t', json, JSON.stringify({ event: 'ready', tenant: 3e9 }));
    expectRefused(wa, 'wa webhook');
  });

  it('Content-Encoding gzip or br on a body that is not compressed', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const r = await send('POST', '/api/events', { ...json, 'content-encoding': encoding }, '{"a":1}');
      expectRefused(r, `events ${encoding}`);
      const form = await send(
        'POST',
        '/api/save-extensions/0367',
        { ...admin, 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
        'a=1',
      );
      expectRefused(form, `form ${encoding}`);
    }
    // A body that really is gzip still works.
    const ok = await send('POST', '/api/whoami', { ...admin, ...json, 'content-encoding': 'gzip' }, gzipSync('{}'));
    expect(ok.status).toBeLessThan(500);
  });

  it('form bodies nested deeper than 32 levels', async () => {
    const deep = `${'a'.repeat(1)}${'[a]'.repeat(40)}=1`;
    const r = await send(
      'PUT',
      '/api/config/0367',
      { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
      deep,
    );
    expectRefused(r, 'deep form');
    const deepJson = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    expectRefused(await send('PUT', '/api/config/0367', { ...admin, ...json }, deepJson), 'deep json');
  });

  it('a malformed % in a path parameter is 400 (before any credential check, so without credentials too)', async () => {
    for (const [method, path] of [
      ['POST', '/webhook/avito/%'],
      ['GET', '/admin/provider-token/%'],
      ['POST', '/internal/tenant/%/ensure'],
      ['GET', '/api/config/%E0%A4%A'],
      ['GET', '/api/phone-admin/users/%zz'],
    ] as const) {
      const r = await send(method, path);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.json?.error, `${method} ${path}`).toBe('invalid_path_encoding');
    }
  });

  it('dates out of range in log filters', async () => {
    for (const q of ['since=99999-01-01', 'until=-271821-04-19', 'since=275760-09-14']) {
      expectRefused(await send('GET', `/api/logs/0367?${q}`, admin), q);
    }
    expect((await send('GET', '/api/logs/0367?since=2024-01-01', admin)).status).toBe(200);
  });
});

/** Express pattern -> OpenAPI path: `:name` and `{/:name}` become `{name}`. */
const toOpenApiPath = (path: string) => path.replace(/\{\/?[:*](\w+)\}/g, '/{$1}').replace(/[:*](\w+)/g, '{$1}');

/** Mounted routes that are not API operations (the admin page's redirects, the connect pages' static assets). */
const NOT_API = new Set([
  'GET /retailcrm-admin',
  'POST /retailcrm-admin',
  'GET /connect/assets/connect.css',
  'GET /connect/assets/connect-wa.js',
]);

describe('the OpenAPI document lists every mounted route', () => {
  it('every Express route (method and path) has an operation in /openapi.json', async () => {
    const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = listRoutes(srv.context.app).filter((r) => !NOT_API.has(`${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes
      .map((r) => ({ method: r.method.toLowerCase(), path: toOpenApiPath(r.path) }))
      .filter((r) => doc.paths[r.path]?.[r.method] === undefined)
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });
});

const adminJson = { ...admin, ...json };
const KEY = 'k'.repeat(32);

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

describe('host policy', () => {
  const policy = createHostPolicy({ allowedHosts: DEFAULT_RETAILCRM_HOSTS, allowLoopback: false });
  const allowed = (o: string) => {
    try {
      policy.check(o);
      return true;
    } catch {
      return false;
    }
  };

  it('allows https RetailCRM account hosts only', () => {
    expect(allowed('https://shop.retailcrm.ru')).toBe(true);
    expect(allowed('https://shop.simla.com')).toBe(true);
    for (const o of [
      'http://shop.retailcrm.ru',
      'https://shop.retailcrm.ru:8443',
      'https://retailcrm.ru.evil.com',
      'https://evilretailcrm.ru',
      'https://127.0.0.1',
      'https://[::1]',
      'https://10.0.0.5',
      'https://169.254.169.254',
      'http://localhost:6379',
      'https://user:pw@shop.retailcrm.ru',
      'gopher://shop.retailcrm.ru',
      'not a url',
    ]) {
      expect(allowed(o), o).toBe(false);
    }
  });

  it('loopback only with the development flag; a custom pattern replaces the default', () => {
    const dev = createHostPolicy({ allowedHosts: ['crm.example.com'], allowLoopback: true });
    expect(() => dev.check('http://127.0.0.1:9999')).not.toThrow();
    expect(() => dev.check('https://crm.example.com')).not.toThrow();
    expect(() => dev.check('https://a.crm.example.com')).toThrow(/RETAILCRM_ALLOWED_HOSTS/);
    expect(() => dev.check('https://shop.retailcrm.ru')).toThrow();
    expect(() => dev.check('http://10.0.0.1:80')).toThrow();
  });

  it('the flag is refused in production', () => {
    expect(() =>
      loadConfig({
        ...testEnv,
        NODE_ENV: 'production',
        PUBLIC_KEY: 'p'.repeat(16),
        WA_WEB_TOKEN: 'w'.repeat(16),
      }),
    ).toThrow(/RETAILCRM_ALLOW_LOOPBACK/);
  });
});

describe('"test connection" cannot be aimed at internal services', () => {
  it('private addresses, other hosts and ports are 422 domain_not_allowed, before any connection', async () => {
    for (const domain of [
      'https://10.1.2.3',
      'http://169.254.169.254',
      'https://evil.com',
      'https://a.retailcrm.ru:6379',
    ]) {
      const r = await rawRequest(
        `${srv.url}/api/test/0367`,
        'POST',
        adminJson,
        JSON.stringify({ domain, api_key: KEY }),
      );
      expect(r.status, domain).toBe(422);
      expect(r.json?.error, domain).toBe('domain_not_allowed');
      const save = await rawRequest(
        `${srv.url}/api/config/0367`,
        'PUT',
        adminJson,
        JSON.stringify({ domain, api_key: KEY, enabled: true }),
      );
      expect(save.json?.error, `save ${domain}`).toBe('domain_not_allowed');
    }
  });
});

describe('with the development flag, network failures read the same whatever listens', () => {
  const others: Array<{ close(): void }> = [];
  afterAll(() => {
    for (const o of others) o.close();
  });

  it('closed port, a non-HTTP service and an HTTP server that is not RetailCRM: one 502 and one message', async () => {
    const closed = createTcpServer();
    const closedPort = await listen(closed);
    closed.close();
    const redisLike = createTcpServer((s) => {
      s.on('error', () => undefined);
      s.end('-ERR unknown command\r\n');
    });
    others.push(redisLike);
    const web = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html/>'));
    others.push(web);
    const answers = [];
    for (const port of [closedPort, await listen(redisLike), await listen(web)]) {
      const r = await rawRequest(
        `${srv.url}/api/test/0367`,
        'POST',
        adminJson,
        JSON.stringify({ domain: `http://127.0.0.1:${port}`, api_key: KEY }),
      );
      answers.push({ status: r.status, body: r.json });
    }
    expect(answers[0]).toMatchObject({ status: 502, body: { error: 'retailcrm_unreachable' } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });
});

describe('secrets at rest: PBX tokens as digests, provider tokens and tenant keys encrypted', () => {
  const sql = () => (srv.storage as unknown as { sql: import('../src/storage/sql-driver.js').SqlDriver }).sql;
  const event = (token: string) =>
    send(
      'POST',
      '/api/events',
      { ...json, 'x-pbx-token': token },
      JSON.stringify({ enterprise_number: '0367', event_type: 'bridge', payload: { UniqueId: `u.${Math.random()}` } }),
    );

  it('the PBX token is stored as its digest and still authenticates (constant-time compare)', async () => {
    const [row] = await sql().query<{ pbx_token: string }>("SELECT pbx_token FROM enterprises WHERE number = '0367'");
    expect(row?.pbx_token).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await event('pbx-0367')).status).toBe(202);
    expect((await event('pbx-0368')).status).toBe(401);
    // Presenting the stored digest itself is no credential.
    expect((await event(row?.pbx_token as string)).status).toBe(401);
  });

  it('provider tokens and tenant keys are encrypted, still shown to the admin and still accepted', async () => {
    const provider = await send('GET', '/admin/provider-token/5', admin);
    const token = provider.json?.provider_token as string;
    const key = (await send('GET', '/admin/key/get?tenant=5', admin)).json?.key as string;
    const [p] = await sql().query<{ token: string; token_digest: string }>(
      'SELECT token, token_digest FROM provider_tokens WHERE tenant = 5',
    );
    const [k] = await sql().query<{ key: string }>('SELECT key FROM tenant_keys WHERE tenant = 5');
    expect(p?.token).toMatch(/^enc:/);
    expect(p?.token).not.toContain(token);
    expect(p?.token_digest).toMatch(/^sha256:/);
    expect(k?.key).toMatch(/^enc:/);
    expect(k?.key).not.toContain(key);
    expect((await send('GET', '/admin/provider-token/5', admin)).json?.provider_token).toBe(token);
    expect((await send('GET', `/pub/settings/get?tenant=5&k=${encodeURIComponent(key)}`)).status).toBe(200);
    // Avito webhooks find the tenant by the token's digest.
    const hook = await send('POST', `/webhook/avito?token=${token}`, json, '{}');
    expect(hook.status).not.toBe(401);
  });

  it('migration path: legacy plaintext rows are digested by the SQL migration or re-encrypted on first read', async () => {
    const { secretsAtRestMigrations } = await import('../src/storage/secrets-at-rest.js');
    await sql().query("UPDATE enterprises SET pbx_token = 'legacy-pbx-token' WHERE number = '0367'");
    await sql().query(
      "INSERT INTO provider_tokens (tenant, token) VALUES (9, 'legacy-provider-token') ON CONFLICT DO NOTHING",
    );
    await sql().query(
      "INSERT INTO tenant_keys (tenant, key) VALUES (9, 'legacy-tenant-key-0123') ON CONFLICT DO NOTHING",
    );
    for (const m of secretsAtRestMigrations) await sql().exec(m.sql);
    const [e] = await sql().query<{ pbx_token: string }>("SELECT pbx_token FROM enterprises WHERE number = '0367'");
    expect(e?.pbx_token).toMatch(/^sha256:/);
    expect((await event('legacy-pbx-token')).status).toBe(202);
    expect((await send('POST', '/webhook/avito?token=legacy-provider-token', json, '{}')).status).not.toBe(401);
    expect((await send('GET', '/admin/provider-token/9', admin)).json?.provider_token).toBe('legacy-provider-token');
    expect((await send('GET', '/pub/settings/get?tenant=9&k=legacy-tenant-key-0123')).status).toBe(200);
    const [p] = await sql().query<{ token: string }>('SELECT token FROM provider_tokens WHERE tenant = 9');
    const [k] = await sql().query<{ key: string }>('SELECT key FROM tenant_keys WHERE tenant = 9');
    expect(p?.token).toMatch(/^enc:/);
    expect(k?.key).toMatch(/^enc:/);
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  });
});
