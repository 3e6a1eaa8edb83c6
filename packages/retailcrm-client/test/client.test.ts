import { describe, expect, it } from 'vitest';
import {
  buildTelephonyIntegrationModule,
  type CallRecord,
  type PageLimit,
  RetailCrmApiError,
  RetailCrmValidationError,
} from '../src/index.js';
import { paginate } from '../src/pagination.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

const users = [
  { id: 1, firstName: 'Anna', groups: [{ id: 1, code: 'sales', name: 'Sales' }] },
  { id: 2, firstName: 'Boris', status: 'busy', groups: [{ id: 2, code: 'support', name: 'Support' }] },
  { id: 3, firstName: 'Vera', active: false },
];
const customers = [
  { id: 10, externalId: 'c-10', firstName: 'Ivan', phones: [{ number: '+7 (999) 123-45-67' }], managerId: 1 },
  { id: 11, externalId: 'c-11', firstName: 'Olga', phones: [{ number: '89990000011' }], managerId: 2 },
];

const module = (overrides: Partial<Parameters<typeof buildTelephonyIntegrationModule>[0]> = {}) =>
  buildTelephonyIntegrationModule({
    code: 'callbridge-telephony',
    name: 'Callbridge',
    baseUrl: 'https://pbx.example.com',
    logoSvg: 'https://pbx.example.com/static/logo.svg',
    clientId: '0367',
    accountUrl: 'https://pbx.example.com/retailcrm-admin/?enterprise_number=0367&token=t',
    makeCallUrl: 'https://pbx.example.com/retailcrm/make-call',
    changeUserStatusUrl: 'https://pbx.example.com/retailcrm/user-status',
    additionalCodes: { '1': '150', '2': '151', '3': null },
    active: true,
    ...overrides,
  });

describe('reference data', () => {
  it('a key with surrounding whitespace (read from a file) is sent trimmed', async () => {
    const { client } = env.start({}, { apiKey: ' fake-retailcrm-api-key-0000\n' });
    await expect(client.credentials()).resolves.toMatchObject({ success: true });
  });

  it('credentials lists methods and sites', async () => {
    const { client } = env.start();
    const res = await client.credentials();
    expect(res.credentials).toContain('/api/telephony/call/event');
    expect(res.sitesAvailable).toEqual(['main']);
  });

  it('sites.list returns sites keyed by code and accepts PHP [] for none', async () => {
    const { client } = env.start({ sites: [{ code: 'shop', name: 'Shop' }] });
    expect((await client.sites.list()).sites.shop?.name).toBe('Shop');
    const empty = env.start({ sites: [] });
    expect((await empty.client.sites.list()).sites).toEqual({});
  });

  it('userGroups.list', async () => {
    const { client } = env.start({ userGroups: [{ code: 'sales', name: 'Sales', isManager: true }] });
    const res = await client.userGroups.list({ limit: 20 });
    expect(res.groups.map((group) => group.code)).toEqual(['sales']);
  });
});

describe('users', () => {
  it('list with filters in bracket notation', async () => {
    const { client, fake } = env.start({ users });
    const res = await client.users.list({ limit: 20, filter: { active: true, groups: ['sales', 'support'] } });
    expect(res.users.map((user) => user.id)).toEqual([1, 2]);
    const query = fake.state.requests[0]!.query;
    expect(query['filter[active]']).toBe('1');
    expect(query['filter[groups][]']).toEqual(['sales', 'support']);
  });

  it('rejects a page limit RetailCRM does not accept, before sending', async () => {
    const { client, fake } = env.start({ users });
    // @ts-expect-error 25 is not a valid limit
    await expect(client.users.list({ limit: 25 })).rejects.toBeInstanceOf(RetailCrmValidationError);
    expect(fake.state.requests).toHaveLength(0);
  });

  it('iterate walks every page', async () => {
    const many = Array.from({ length: 45 }, (_, index) => ({ id: index + 1 }));
    const { client, fake } = env.start({ users: many });
    const ids: number[] = [];
    for await (const user of client.users.iterate({ limit: 20 })) ids.push(user.id);
    expect(ids).toEqual(many.map((user) => user.id));
    expect(fake.requestsTo('/users').map((request) => request.query.page)).toEqual(['1', '2', '3']);
  });

  it('get and a 404 as RetailCrmApiError', async () => {
    const { client } = env.start({ users });
    expect((await client.users.get(2)).user.firstName).toBe('Boris');
    const error = await client.users.get(99).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmApiError);
    expect((error as RetailCrmApiError).status).toBe(404);
    expect((error as RetailCrmApiError).errorMsg).toBe('Not found');
    expect((error as RetailCrmApiError).isRetryable).toBe(false);
  });

  it('setStatus posts a form field and changes state', async () => {
    const { client, fake } = env.start({ users });
    await client.users.setStatus(1, 'dinner');
    expect(fake.state.users[0]!.status).toBe('dinner');
    expect(fake.state.requests[0]!.form).toEqual({ status: 'dinner' });
    // @ts-expect-error not a RetailCRM status
    await expect(client.users.setStatus(1, 'away')).rejects.toBeInstanceOf(RetailCrmValidationError);
  });
});

describe('customers', () => {
  it('list / search by phone through filter[name]', async () => {
    const { client } = env.start({ customers });
    const res = await client.customers.list({ filter: { name: '9991234567' } });
    expect(res.customers.map((customer) => customer.id)).toEqual([10]);
    const all: number[] = [];
    for await (const customer of client.customers.iterate()) all.push(customer.id);
    expect(all).toEqual([10, 11]);
  });

  it('get by id (number) or externalId (string)', async () => {
    const { client, fake } = env.start({ customers });
    expect((await client.customers.get(11)).customer.firstName).toBe('Olga');
    expect((await client.customers.get('c-10')).customer.firstName).toBe('Ivan');
    expect(fake.state.requests.map((request) => request.query.by)).toEqual(['id', 'externalId']);
  });

  it('create sends customer as ONE JSON string; create is never retried', async () => {
    const { client, fake } = env.start({ customers });
    const res = await client.customers.create(
      { firstName: 'Petr', phones: [{ number: '+79995550000' }], customField: { a: 1 } },
      { site: 'main' },
    );
    expect(res.id).toBe(12);
    const form = fake.state.requests[0]!.form!;
    expect(JSON.parse(form.customer as string)).toMatchObject({ firstName: 'Petr', customField: { a: 1 } });
    expect(form.site).toBe('main');

    fake.failNext({ status: 500, path: '/customers/create' });
    await expect(client.customers.create({ firstName: 'X' })).rejects.toMatchObject({ status: 500, isRetryable: true });
    expect(fake.requestsTo('/customers/create')).toHaveLength(2);
  });

  it('a form value JSON cannot encode is a validation error, never sent nor retried', async () => {
    const { client, fake } = env.start({ customers });
    const cyclic: Record<string, unknown> = { firstName: 'Loop' };
    cyclic.self = cyclic;
    await expect(client.customers.edit(10, cyclic)).rejects.toMatchObject({ code: 'validation' });
    await expect(client.customers.edit(10, { custom: 10n })).rejects.toBeInstanceOf(RetailCrmValidationError);
    expect(fake.state.requests).toHaveLength(0);
  });

  it('edit by id updates the stored customer (and is retried: it is idempotent)', async () => {
    const { client, fake } = env.start({ customers });
    fake.failNext({ status: 502, path: /\/edit$/ });
    const res = await client.customers.edit(10, { lastName: 'Petrov' });
    expect(res.id).toBe(10);
    expect(fake.state.customers[0]!.lastName).toBe('Petrov');
    expect(fake.requestsTo(/\/customers\/10\/edit$/).map((request) => request.status)).toEqual([502, 200]);
  });
});

describe('integration modules', () => {
  it('edit registers a built module; get returns it (object or JSON string)', async () => {
    const { client, fake } = env.start();
    const res = await client.integrationModules.edit(module());
    expect(res.success).toBe(true);
    expect(res.info).toEqual({});
    const form = fake.state.requests[0]!.form!;
    expect(typeof form.integrationModule).toBe('string');
    expect(Object.keys(form)).toEqual(['integrationModule']);
    const stored = fake.state.integrationModules.get('callbridge-telephony')!;
    expect(stored.integrations?.telephony?.additionalCodes).toEqual([
      { userId: '1', code: '150' },
      { userId: '2', code: '151' },
    ]);

    const got = await client.integrationModules.get('callbridge-telephony');
    expect(got.integrationModule.integrations?.telephony?.makeCallUrl).toBe(
      'https://pbx.example.com/retailcrm/make-call',
    );

    const asString = env.start({ integrationModules: [stored], integrationModuleAsJsonString: true });
    const parsed = await asString.client.integrationModules.get('callbridge-telephony');
    expect(parsed.integrationModule.clientId).toBe('0367');
  });

  it('deactivation is the same payload with active: false', async () => {
    const { client, fake } = env.start();
    await client.integrationModules.edit(module());
    await client.integrationModules.edit(module({ active: false }));
    expect(fake.state.integrationModules.get('callbridge-telephony')!.active).toBe(false);
    expect(fake.state.requests.map((request) => request.status)).toEqual([201, 200]);
  });

  it('surfaces the seed validation errors as RetailCrmApiError with field errors', async () => {
    const { client } = env.start();
    const bad = { ...module(), logo: 'https://pbx.example.com/logo.jpg', baseUrl: '' };
    const error = (await client.integrationModules.edit(bad).catch((caught: unknown) => caught)) as RetailCrmApiError;
    expect(error).toBeInstanceOf(RetailCrmApiError);
    expect(error.status).toBe(400);
    expect(error.errors).toEqual({ logo: 'Logo image must be svg', baseUrl: 'This value should not be blank' });
    expect(error.errorList()).toEqual(['logo: Logo image must be svg', 'baseUrl: This value should not be blank']);
    expect(error.message).toContain('logo: Logo image must be svg');
  });
});

describe('telephony', () => {
  it('callEvent sends event JSON and reports unknown codes/users', async () => {
    const { client, fake } = env.start({ users, integrationModules: [module()] });
    const res = await client.telephony.callEvent({
      phone: '+79991234567',
      type: 'in',
      codes: ['150', '999'],
      userIds: [1, 42],
      callExternalId: 'u-1',
    });
    expect(res).toEqual({ success: true, notExistCodes: ['999'], notExistUsers: [42] });
    expect(fake.state.callEvents[0]).toMatchObject({ phone: '+79991234567', type: 'in', callExternalId: 'u-1' });
    const hangup = await client.telephony.callEvent({
      phone: '+79991234567',
      type: 'hangup',
      hangupStatus: 'no answered',
    });
    expect(hangup).toEqual({ success: true });
  });

  it('callEvent validates before sending (hangupStatus is "no answered", with a space)', async () => {
    const { client, fake } = env.start();
    await expect(
      // @ts-expect-error wrong status spelling
      client.telephony.callEvent({ phone: '1', type: 'hangup', hangupStatus: 'no_answer' }),
    ).rejects.toBeInstanceOf(RetailCrmValidationError);
    expect(fake.state.requests).toHaveLength(0);
  });

  it('callEvent is retried on 503 (not processed) but not on 500 unless { retry: true }', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 503, body: '<html></html>', path: '/telephony/call/event' });
    await client.telephony.callEvent({ phone: '1', type: 'in' });
    expect(fake.state.callEvents).toHaveLength(1);
    expect(fake.requestsTo('/telephony/call/event').map((request) => request.status)).toEqual([503, 200]);
    fake.failNext({ status: 500, path: '/telephony/call/event' });
    await expect(client.telephony.callEvent({ phone: '1', type: 'in' })).rejects.toMatchObject({
      code: 'api_error',
    });
    expect(fake.state.callEvents).toHaveLength(1);
    fake.failNext({ status: 500, path: '/telephony/call/event' });
    await client.telephony.callEvent({ phone: '1', type: 'in' }, { retry: true });
    expect(fake.state.callEvents).toHaveLength(2);
    expect(fake.requestsTo('/telephony/call/event').map((request) => request.status)).toEqual([
      503, 200, 500, 500, 200,
    ]);
  });

  it('callEvent and uploadCalls keep fields the schema does not list (source, clientId)', async () => {
    const { client, fake } = env.start();
    const event = { phone: '1', type: 'in' as const, source: 'pbx', clientId: '0367' };
    await client.telephony.callEvent(event);
    expect(JSON.parse(fake.requestsTo('/telephony/call/event')[0]?.form?.event as string)).toMatchObject({
      source: 'pbx',
      clientId: '0367',
    });
    const call = {
      date: '2025-01-09 19:20:00',
      type: 'in' as const,
      phone: '1',
      result: 'answered' as const,
      source: 'x',
    };
    await client.telephony.uploadCalls([call]);
    expect(JSON.parse(fake.requestsTo('/telephony/calls/upload')[0]?.form?.calls as string)[0]).toMatchObject({
      source: 'x',
    });
  });

  it('uploadCalls splits into batches of 50, merges results and reports duplicates', async () => {
    const { client, fake } = env.start();
    const calls: CallRecord[] = Array.from({ length: 120 }, (_, index) => ({
      date: '2025-01-09 19:20:00',
      type: index % 2 ? 'out' : 'in',
      phone: `+7999000${String(index).padStart(4, '0')}`,
      result: index % 3 ? 'answered' : 'no answer',
      duration: index,
      externalId: `call-${index}`,
    }));
    const res = await client.telephony.uploadCalls(calls);
    expect(res).toEqual({ success: true, processedCallsCount: 120, duplicateCalls: [] });
    expect(fake.requestsTo('/telephony/calls/upload').map((r) => JSON.parse(r.form!.calls as string).length)).toEqual([
      50, 50, 20,
    ]);
    const again = await client.telephony.uploadCalls(calls.slice(0, 3));
    expect(again).toEqual({ success: true, processedCallsCount: 0, duplicateCalls: ['call-0', 'call-1', 'call-2'] });
    expect(fake.state.uploadedCalls).toHaveLength(120);
  });

  it('uploadCalls is retried (idempotent by externalId) and never double-stores', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 503, body: '<html></html>', path: '/telephony/calls/upload' });
    const res = await client.telephony.uploadCalls([
      { date: '2025-01-09 19:20:00', type: 'in', phone: '1', result: 'answered', externalId: 'x' },
    ]);
    expect(res.processedCallsCount).toBe(1);
    expect(fake.state.uploadedCalls).toHaveLength(1);
  });

  it('uploadCalls rejects a bad date format before sending anything', async () => {
    const { client, fake } = env.start();
    const good: CallRecord = { date: '2025-01-09 19:20:00', type: 'in', phone: '1', result: 'answered' };
    await expect(client.telephony.uploadCalls([good, { ...good, date: '2025-01-09T19:20:00Z' }])).rejects.toThrow(
      /call #1: date/,
    );
    expect(fake.state.requests).toHaveLength(0);
  });

  it('responsibleManager returns the manager with their extension', async () => {
    const { client, fake } = env.start({ users, customers, integrationModules: [module()] });
    const res = await client.telephony.responsibleManager({ phone: '+79991234567', details: true });
    expect(res.manager).toMatchObject({ id: 1, firstName: 'Anna', code: '150' });
    expect(res.customer?.id).toBe(10);
    expect(res.links?.newOrderLink).toContain('customerId=10');
    expect(fake.state.requests[0]!.query).toMatchObject({ phone: '+79991234567', details: '1' });

    // Boris is busy: only returned with ignoreStatus.
    expect((await client.telephony.responsibleManager({ phone: '89990000011' })).manager).toBeUndefined();
    const ignoring = await client.telephony.responsibleManager({ phone: '89990000011', ignoreStatus: true });
    expect(ignoring.manager?.id).toBe(2);
    expect((await client.telephony.responsibleManager({ phone: '+10000000000' })).customer).toBeUndefined();
  });

  it('responsibleManager keeps manager/customer fields the schema does not list', async () => {
    const { client, fake } = env.start();
    fake.failNext({
      status: 200,
      path: '/telephony/manager',
      body: {
        success: true,
        manager: { id: 7, code: 150, isAdmin: false },
        customer: { externalId: 'c-1', tags: ['vip'] },
        links: { newCustomerLink: 'x' },
      },
    });
    const res = await client.telephony.responsibleManager({ phone: '+79991234567' });
    expect(res.customer).toEqual({ externalId: 'c-1', tags: ['vip'] });
    // A numeric code is read as the extension string; unknown manager fields pass through.
    expect(res.manager).toEqual({ id: 7, code: '150', isAdmin: false });
  });
});

describe('paginate (the iterator behind users.iterate and customers.iterate)', () => {
  it('walks userGroups (pagination optional) like any other list', async () => {
    const userGroups = Array.from({ length: 23 }, (_, i) => ({ id: i + 1, code: `g${i + 1}` }));
    const { client } = env.start({ userGroups });
    const codes: string[] = [];
    for await (const group of paginate(
      { limit: 20 },
      (page) => client.userGroups.list(page),
      (r) => r.groups,
    )) {
      codes.push(group.code ?? '');
    }
    expect(codes).toHaveLength(23);
    expect(codes.at(-1)).toBe('g23');
  });

  it('treats an answer without pagination as a single page', async () => {
    const calls: number[] = [];
    const items: number[] = [];
    const params: { page?: number; limit?: PageLimit } = {};
    for await (const item of paginate(
      params,
      async (page) => {
        calls.push(page.page ?? 0);
        return { list: [1, 2], pagination: undefined };
      },
      (response) => response.list,
    )) {
      items.push(item);
    }
    expect(items).toEqual([1, 2]);
    expect(calls).toEqual([1]);
  });

  it('walks pages from params.page to totalPageCount with limit 100 by default', async () => {
    const seen: { page?: number; limit?: number }[] = [];
    const pages = [['a', 'b'], ['c'], []];
    const items: string[] = [];
    const params: { page?: number; limit?: PageLimit } = { page: 1 };
    for await (const item of paginate(
      params,
      async (params) => {
        seen.push({ page: params.page, limit: params.limit });
        return { pagination: { limit: 100, totalCount: 3, currentPage: params.page!, totalPageCount: 2 } };
      },
      (response) => pages[response.pagination.currentPage - 1]!,
    )) {
      items.push(item);
    }
    expect(items).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual([
      { page: 1, limit: 100 },
      { page: 2, limit: 100 },
    ]);
  });
});
