import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  buildTelephonyIntegrationModule,
  createRetailCrmClient,
  RetailCrmAccountNotFoundError,
  RetailCrmValidationError,
} from '../src/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

describe('unversioned methods', () => {
  it('credentials: GET /api/credentials (no version) with scopes', async () => {
    const { client, fake } = env.start({ scopes: ['telephony_read', 'telephony_write'] });
    const res = await client.credentials();
    expect(res.scopes).toEqual(['telephony_read', 'telephony_write']);
    expect(fake.state.requests.map((request) => [request.method, request.path])).toEqual([['GET', '/api/credentials']]);
  });

  it('apiVersions: GET /api/api-versions', async () => {
    const { client, fake } = env.start();
    expect((await client.apiVersions()).versions).toEqual(['3.0', '4.0', '5.0']);
    expect(fake.requestsTo('/api/api-versions', 'GET')).toHaveLength(1);
  });
});

describe('settings', () => {
  it('GET /api/v5/settings gives the account time zone', async () => {
    const { client, fake } = env.start({ timeZone: 'Asia/Yekaterinburg' });
    const res = await client.settings.get();
    expect(res.settings.timezone?.value).toBe('Asia/Yekaterinburg');
    fake.state.settings.timezone = { value: 'Europe/Samara' };
    expect((await client.settings.get()).settings.timezone?.value).toBe('Europe/Samara');
  });
});

describe('customers.notes.create', () => {
  it('sends the note as one JSON field with the site; the fake stores it', async () => {
    const { client, fake } = env.start({ users: [{ id: 21 }], customers: [{ id: 5, externalId: '10' }] });
    const res = await client.customers.notes.create(
      { text: 'Missed call from +79991234567', managerId: 21, customer: { externalId: '10' } },
      { site: 'main' },
    );
    expect(res).toEqual({ success: true, id: 1 });
    const request = fake.requestsTo('/customers/notes/create', 'POST')[0];
    expect(request?.form?.site).toBe('main');
    expect(JSON.parse(request?.form?.note as string)).toEqual({
      text: 'Missed call from +79991234567',
      managerId: 21,
      customer: { externalId: '10' },
    });
    expect(fake.state.customerNotes).toMatchObject([{ id: 1, site: 'main', customer: { externalId: '10' } }]);
  });

  it('a note names its customer; an unknown one is RetailCRM input error', async () => {
    const { client, fake } = env.start({ customers: [{ id: 5 }] });
    await expect(client.customers.notes.create({ text: 'x', customer: {} })).rejects.toBeInstanceOf(
      RetailCrmValidationError,
    );
    expect(fake.state.requests).toHaveLength(0);
    await expect(client.customers.notes.create({ text: 'x', customer: { id: 99 } })).rejects.toMatchObject({
      code: 'api_error',
      status: 400,
    });
    expect(fake.state.customerNotes).toHaveLength(0);
  });
});

describe('integrationModules.updateScopes', () => {
  const module = buildTelephonyIntegrationModule({
    code: 'tel',
    name: 'Callbridge',
    baseUrl: 'https://pbx.example.com',
    logoSvg: 'https://pbx.example.com/logo.svg',
    clientId: '0367',
    accountUrl: 'https://pbx.example.com/account',
    makeCallUrl: 'https://pbx.example.com/call',
    active: true,
  });

  it('posts requires.scopes as JSON and returns the new key, which the fake then accepts', async () => {
    const { client, fake } = env.start({ integrationModules: [module] });
    const res = await client.integrationModules.updateScopes('tel', ['integration_read', 'integration_write']);
    expect(res.apiKey).toMatch(/^fake-retailcrm-scoped-key-/);
    const request = fake.requestsTo('/integration-modules/tel/update-scopes', 'POST')[0];
    expect(JSON.parse(request?.form?.requires as string)).toEqual({
      scopes: ['integration_read', 'integration_write'],
    });
    expect(fake.state.grantedScopes.get('tel')).toEqual(['integration_read', 'integration_write']);
    const rekeyed = createRetailCrmClient({ url: fake.url, apiKey: res.apiKey, rateLimit: { scope: 'client' } });
    await expect(rekeyed.credentials()).resolves.toMatchObject({ success: true });
  });

  it('an unknown module is 404', async () => {
    const { client } = env.start();
    await expect(client.integrationModules.updateScopes('nope', ['x'])).rejects.toMatchObject({ status: 404 });
  });
});

describe('responsible manager model', () => {
  it('accepts manager.id as a numeric string (as the PHP model types it) and keeps customerLink and extra fields', async () => {
    const { client, fake } = env.start();
    env.server.use(
      http.get(`${fake.url}/api/v5/telephony/manager`, () =>
        HttpResponse.json({
          success: true,
          manager: { id: '19', firstName: 'Anna', code: '150', extra: 'kept' },
          customer: { id: 5, externalId: 'c-5' },
          links: { customerLink: 'https://demo.retailcrm.ru/customers/5', newOrderLink: 'x' },
        }),
      ),
    );
    const res = await client.telephony.responsibleManager({ phone: '+79990000000', details: true });
    expect(res.manager?.id).toBe(19);
    expect(res.manager).toMatchObject({ code: '150', extra: 'kept' });
    expect(res.links?.customerLink).toBe('https://demo.retailcrm.ru/customers/5');
  });
});

describe('account URL and HTML answers', () => {
  it('http: is refused for a real host unless allowed, accepted for loopback and test names', () => {
    const make = (url: string, allowInsecureHttp?: boolean) =>
      createRetailCrmClient({ url, apiKey: 'k', allowInsecureHttp, rateLimit: false });
    expect(() => make('http://demo.retailcrm.ru')).toThrow(RetailCrmValidationError);
    expect(() => make('http://demo.retailcrm.ru')).toThrow(/https/);
    expect(make('http://demo.retailcrm.ru', true).url).toBe('http://demo.retailcrm.ru');
    for (const url of [
      'http://localhost:8080',
      'http://127.0.0.1:1',
      'http://[::1]:9',
      'http://crm.test',
      'http://a.localhost',
    ]) {
      expect(make(url).url).toBe(new URL(url).origin);
    }
  });

  it('an HTML 404 page on GET means the account does not exist (as the official clients read it)', async () => {
    const { client, fake } = env.start({ users: [{ id: 1 }] });
    fake.failNext({ status: 404, body: '<html><body>404</body></html>' });
    await expect(client.users.get(1)).rejects.toBeInstanceOf(RetailCrmAccountNotFoundError);
    // A JSON 404 stays a plain "not found".
    await expect(client.users.get(2)).rejects.toMatchObject({ code: 'api_error', status: 404 });
  });
});
