import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { testEnv } from './helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { getStats, startConfiguredServer } from './support/in-process.js';
import { concretePath, listRoutes, type RawResponse, type RouteInfo, rawRequest } from './support/routes.js';

/** Credentials for every kind of route, so refusals are about the body, not about who sends it. */
const credentials = {
  authorization: `Bearer ${testEnv.ADMIN_TOKEN}`,
  'x-admin-token': testEnv.ADMIN_TOKEN,
  'x-pbx-token': 'pbx-0367',
};
const params = { enterpriseNumber: '0367', enterprise: '0367', n: '0367', tenant: 'tenant1', id: '1', jobId: '1' };
// Larger than every route's JSON limit (BODY_LIMIT_JSON is 16kb here; the phone API's own parser allows 6 MB).
const OVERSIZED = Buffer.from(JSON.stringify({ blob: 'x'.repeat(7 * 1024 * 1024) }));
const FORM_OVERSIZED = Buffer.from(`a=${'x'.repeat(64 * 1024)}`);

/**
 * Error body conventions: the server's own routes answer `{ok:false, error:"<code>"}`; the phone API keeps the
 * phone app's DRF format (`{detail}` or `{field: [messages]}`), the messenger hub its seed's FastAPI format
 * (`{detail: "<code>"}` or `{detail: [{loc, msg, type}]}`, plus the seed's `{ok:false, error}` bodies).
 */
const isPhoneProtocol = (path: string) => /^\/api\/(token|phone)\//.test(path);
const isMessengerHub = (path: string) => /^\/(send|webhook|pub|admin|internal)(\/|$)/.test(path);

function expectMachineReadable(route: RouteInfo, r: RawResponse, what: string) {
  const where = `${route.method} ${route.path} (${what}) -> ${r.status} ${r.body.slice(0, 200)}`;
  expect(r.json, where).toBeTypeOf('object');
  const j = r.json as Record<string, unknown>;
  const ownFormat = j.ok === false && typeof j.error === 'string' && /^[a-z][a-z0-9_]*$/.test(j.error);
  if (isPhoneProtocol(route.path)) {
    const drf = typeof j.detail === 'string' || Object.values(j).some((v) => Array.isArray(v));
    expect(drf, where).toBe(true);
  } else if (isMessengerHub(route.path)) {
    const fastApi = typeof j.detail === 'string' || Array.isArray(j.detail);
    expect(fastApi || ownFormat, where).toBe(true);
  } else {
    expect(ownFormat, where).toBe(true);
  }
}

describe('malformed, mistyped, empty and oversized bodies on every route that takes one', () => {
  let crm: FakeCrmServer;
  let srv: RunningServer;
  let routes: RouteInfo[];

  beforeAll(async () => {
    crm = await startFakeCrmServer();
    srv = await startConfiguredServer(crm, { BODY_LIMIT_JSON: '16kb', BODY_LIMIT_FORM: '16kb' });
    routes = listRoutes(srv.context.app).filter(
      // `POST /retailcrm-admin` is RetailCRM opening the admin page (its accountUrl) with a POST: it reads no body
      // and always answers 303 to the page.
      (r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && r.path !== '/retailcrm-admin',
    );
  });
  afterAll(async () => {
    await srv?.close();
    await crm?.close();
  });

  const send = (route: RouteInfo, headers: Record<string, string>, body?: Buffer | string) =>
    rawRequest(`${srv.url}${concretePath(route.path, params)}`, route.method, { ...credentials, ...headers }, body);

  it('finds the body routes of the app (admin, PBX, RetailCRM callbacks, and phone/messenger when mounted)', () => {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'PUT /api/config/:enterpriseNumber',
        'PATCH /api/config/:enterpriseNumber',
        'POST /retailcrm-admin/api/save-extensions/:enterpriseNumber',
        'POST /api/events',
        'POST /api/smart-redirect',
      ]),
    );
    expect(routes.length).toBeGreaterThan(15);
  });

  it('malformed JSON -> 400 with a code', async () => {
    for (const route of routes) {
      const r = await send(route, { 'content-type': 'application/json' }, '{"enterprise_number": "0367",');
      expect(r.status, `${route.method} ${route.path}`).toBe(400);
      expectMachineReadable(route, r, 'malformed');
    }
  });

  it('oversized JSON and form bodies -> 413 with a code', async () => {
    for (const route of routes) {
      const r = await send(route, { 'content-type': 'application/json' }, OVERSIZED);
      expect(r.status, `${route.method} ${route.path} ${r.body.slice(0, 200)}`).toBe(413);
      expectMachineReadable(route, r, 'oversized json');
      if (isPhoneProtocol(route.path)) continue; // JSON-only API: a form is a 415 there (below)
      const f = await send(route, { 'content-type': 'application/x-www-form-urlencoded' }, FORM_OVERSIZED);
      expect(f.status, `${route.method} ${route.path} form ${f.body.slice(0, 200)}`).toBe(413);
      expectMachineReadable(route, f, 'oversized form');
    }
  });

  it('a wrong content type -> 4xx with a code, never a 5xx', async () => {
    for (const route of routes) {
      for (const type of ['text/plain', 'application/xml']) {
        const r = await send(route, { 'content-type': type }, '<enterprise_number>0367</enterprise_number>');
        expect(r.status, `${route.method} ${route.path} ${type} ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${route.method} ${route.path} ${type}`).toBeLessThan(500);
        expectMachineReadable(route, r, type);
      }
    }
  });

  it('an empty body -> a JSON answer below 500 (a 4xx with a code where the route needs a body)', async () => {
    for (const route of routes) {
      for (const headers of [{ 'content-type': 'application/json' }, {} as Record<string, string>]) {
        const r = await send(route, { ...headers, 'content-length': '0' });
        const where = `${route.method} ${route.path} empty ${JSON.stringify(headers)} -> ${r.status} ${r.body.slice(0, 200)}`;
        expect(r.status, where).toBeLessThan(500);
        if (r.status >= 400) expectMachineReadable(route, r, 'empty');
        else expect(r.json, where).toBeTypeOf('object');
      }
    }
  });

  it('keeps serving afterwards: health, a valid save, and no 5xx in the request counters', async () => {
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    const ok = await rawRequest(
      `${srv.url}/api/config/0367`,
      'PATCH',
      { ...credentials, 'content-type': 'application/json' },
      JSON.stringify({ enabled: true }),
    );
    expect(ok.status).toBe(200);
    const byStatus = (await getStats(srv.url)) as unknown as { requests: { by_status: Record<string, number> } };
    const fiveHundreds = Object.entries(byStatus.requests.by_status).filter(([s]) => s.startsWith('5'));
    expect(fiveHundreds).toEqual([]);
  });
});
