import { describe, expect, it } from 'vitest';
import { buildTelephonyIntegrationModule } from '../src/index.js';
import { createFakeRetailCrm, createManualClock, FAKE_RETAILCRM_URL } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

// biome-ignore lint/suspicious/noExplicitAny: raw JSON bodies in assertions
type Json = any;

async function body(response: Response): Promise<Json> {
  return response.json();
}

function raw(fakeUrl: string, apiKey: string | undefined, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (apiKey) headers.set('X-API-KEY', apiKey);
  // `/api/...` names an unversioned method; anything else is under `/api/v5`.
  return fetch(`${fakeUrl}${path.startsWith('/api/') ? path : `/api/v5${path}`}`, { ...init, headers });
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

const goodModule = () =>
  buildTelephonyIntegrationModule({
    code: 'tel',
    name: 'Callbridge',
    baseUrl: 'https://pbx.example.com',
    logoSvg: '<svg xmlns="http://www.w3.org/2000/svg"/>',
    clientId: '0367',
    accountUrl: 'https://pbx.example.com/admin',
    makeCallUrl: 'https://pbx.example.com/call',
    active: true,
  });

describe('fake RetailCRM: the seed validation errors on integration-modules/{code}/edit', () => {
  it('an object instead of a JSON string -> "contains a non-scalar value" (form brackets or a JSON body)', async () => {
    const { fake } = env.start();
    const bracketed = await raw(
      fake.url,
      fake.apiKey,
      '/integration-modules/tel/edit',
      form({ 'integrationModule[code]': 'tel' }),
    );
    expect(bracketed.status).toBe(400);
    expect(await body(bracketed)).toEqual({
      success: false,
      errorMsg: 'Input value "integrationModule" contains a non-scalar value',
    });
    const json = await raw(fake.url, fake.apiKey, '/integration-modules/tel/edit', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ integrationModule: goodModule() }),
    });
    expect((await body(json)).errorMsg).toBe('Input value "integrationModule" contains a non-scalar value');
    expect(fake.state.integrationModules.size).toBe(0);
  });

  it('JPG logo and missing baseUrl -> logo / baseUrl field errors', async () => {
    const { fake } = env.start();
    const { baseUrl: _omit, ...withoutBase } = { ...goodModule(), logo: 'https://pbx.example.com/logo.jpg' };
    const response = await raw(
      fake.url,
      fake.apiKey,
      '/integration-modules/tel/edit',
      form({ integrationModule: JSON.stringify(withoutBase) }),
    );
    expect(response.status).toBe(400);
    expect(await body(response)).toEqual({
      success: false,
      errorMsg: 'Errors in the entity format',
      errors: { logo: 'Logo image must be svg', baseUrl: 'This value should not be blank' },
    });
  });

  it('a partial update (additionalCodes only) merges into the stored module', async () => {
    const { fake } = env.start({ integrationModules: [goodModule()] });
    const patch = { integrations: { telephony: { additionalCodes: [{ userId: '19', code: '150' }] } } };
    const response = await raw(
      fake.url,
      fake.apiKey,
      '/integration-modules/tel/edit',
      form({ integrationModule: JSON.stringify(patch) }),
    );
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ success: true, info: [] });
    const stored = fake.state.integrationModules.get('tel')!;
    expect(stored.integrations?.telephony?.additionalCodes).toEqual([{ userId: '19', code: '150' }]);
    expect(stored.integrations?.telephony?.makeCallUrl).toBe('https://pbx.example.com/call');
  });
});

describe('fake RetailCRM: account behaviour', () => {
  it('checks the API key (header or apiKey query)', async () => {
    const { fake } = env.start();
    expect(await body(await raw(fake.url, undefined, '/api/credentials'))).toEqual({
      success: false,
      errorMsg: '"apiKey" is missing.',
    });
    const wrong = await raw(fake.url, 'nope', '/api/credentials');
    expect(wrong.status).toBe(403);
    expect((await body(wrong)).errorMsg).toBe('Wrong "apiKey" value.');
    const viaQuery = await fetch(`${fake.url}/api/credentials?apiKey=${fake.apiKey}`);
    expect(viaQuery.status).toBe(200);
    expect(fake.state.requests.at(-1)!.query.apiKey).toBe('***0000');
  });

  it('uses the configured base URL', async () => {
    const { fake } = env.start({ url: 'https://other.retailcrm.ru/' });
    expect(fake.url).toBe('https://other.retailcrm.ru');
    expect(FAKE_RETAILCRM_URL).toBe('https://demo.retailcrm.ru');
    expect((await raw(fake.url, fake.apiKey, '/api/credentials')).status).toBe(200);
  });

  it('answers 503 with HTML over the per-key limit, per sliding window', async () => {
    const clock = createManualClock(0);
    const { fake } = env.start({ clock, rateLimit: { perSecond: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await raw(fake.url, fake.apiKey, '/api/credentials')).status);
    expect(statuses).toEqual([200, 200, 200, 503]);
    const limited = await raw(fake.url, fake.apiKey, '/api/credentials');
    expect(limited.headers.get('content-type')).toContain('text/html');
    clock.advance(999);
    expect((await raw(fake.url, fake.apiKey, '/api/credentials')).status).toBe(503);
    clock.advance(1);
    expect((await raw(fake.url, fake.apiKey, '/api/credentials')).status).toBe(200);
  });

  it('records every request with form fields and masked key; reset() restores the seed', async () => {
    const { client, fake } = env.start({ users: [{ id: 1 }] });
    await client.users.setStatus(1, 'break');
    await client.telephony.callEvent({ phone: '1', type: 'in' });
    expect(fake.state.requests.map((request) => [request.method, request.path, request.status])).toEqual([
      ['POST', '/users/1/status', 200],
      ['POST', '/telephony/call/event', 200],
    ]);
    expect(fake.state.users[0]!.status).toBe('break');
    const usersRef = fake.state.users;
    fake.reset();
    expect(fake.state.requests).toHaveLength(0);
    expect(fake.state.callEvents).toHaveLength(0);
    expect(usersRef[0]!.status).toBe('free');
  });

  it('rejects invalid call events and call uploads like RetailCRM', async () => {
    const { fake } = env.start();
    const event = await raw(
      fake.url,
      fake.apiKey,
      '/telephony/call/event',
      form({ event: JSON.stringify({ type: 'ring' }) }),
    );
    expect(await body(event)).toEqual({
      success: false,
      errorMsg: 'Errors in the input parameters',
      errors: { phone: 'This value should not be blank.', type: 'The value you selected is not a valid choice.' },
    });
    const tooMany = Array.from({ length: 51 }, () => ({
      date: '2025-01-01 00:00:00',
      type: 'in',
      phone: '1',
      result: 'answered',
    }));
    const upload = await raw(
      fake.url,
      fake.apiKey,
      '/telephony/calls/upload',
      form({ calls: JSON.stringify(tooMany) }),
    );
    expect(upload.status).toBe(400);
    const badResult = await raw(
      fake.url,
      fake.apiKey,
      '/telephony/calls/upload',
      form({ calls: JSON.stringify([{ date: '2025-01-01 00:00:00', type: 'in', phone: '1', result: 'no_answer' }]) }),
    );
    expect((await body(badResult)).errors).toEqual(['calls[0].result: The value you selected is not a valid choice.']);
  });

  it('failNext matches by method/path and counts down', async () => {
    const { fake } = env.start();
    fake.failNext({ status: 500, path: '/users', times: 2 });
    expect((await raw(fake.url, fake.apiKey, '/api/credentials')).status).toBe(200);
    expect((await raw(fake.url, fake.apiKey, '/users')).status).toBe(500);
    expect((await raw(fake.url, fake.apiKey, '/users')).status).toBe(500);
    expect((await raw(fake.url, fake.apiKey, '/users')).status).toBe(200);
  });

  it('a malformed escape in the path is a 404 envelope, not a handler crash', async () => {
    const { fake } = env.start();
    const response = await raw(fake.url, fake.apiKey, '/customers/%E0%A4%A');
    expect(response.status).toBe(404);
    expect(await body(response)).toEqual({ success: false, errorMsg: 'Not found' });
  });

  it('unknown methods answer a RetailCRM 404 envelope (credentials is unversioned only)', async () => {
    const { fake } = env.start();
    const response = await raw(fake.url, fake.apiKey, '/orders/history');
    expect(response.status).toBe(404);
    expect((await body(response)).success).toBe(false);
    const versioned = await raw(fake.url, fake.apiKey, '/credentials');
    expect([versioned.status, (await body(versioned)).errorMsg]).toEqual([404, 'API method not found']);
  });

  it('two fakes on different URLs are independent', async () => {
    const a = createFakeRetailCrm({ url: 'https://a.retailcrm.ru', users: [{ id: 1 }] });
    const b = createFakeRetailCrm({ url: 'https://b.retailcrm.ru', users: [{ id: 2 }, { id: 3 }] });
    env.server.use(...a.handlers, ...b.handlers);
    const listA = await body(await raw(a.url, a.apiKey, '/users'));
    const listB = await body(await raw(b.url, b.apiKey, '/users'));
    expect([listA.users.length, listB.users.length]).toEqual([1, 2]);
  });
});
