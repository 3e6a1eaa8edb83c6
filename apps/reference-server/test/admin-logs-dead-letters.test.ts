import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { DELIVERY_QUEUE } from '../src/telephony.js';
import { testClientFactory, testEnv } from './helpers.js';
import { insertCallLogs } from './support/integration-logs.js';

const fake = createFakeRetailCrm({ rateLimit: false, users: [{ id: 18, firstName: 'Anna' }] });
const msw = setupServer(...fake.handlers);
const ADMIN = testEnv.ADMIN_TOKEN;
let srv: RunningServer;
let jwtA: string;
let jwtB: string;

async function call(method: string, path: string, token = ADMIN, json?: unknown) {
  const res = await fetch(srv.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected ad hoc in assertions
  return { status: res.status, data: (await res.json()) as Record<string, any> };
}

async function configureAndRegister(n: string): Promise<string> {
  await call('PUT', `/api/config/${n}`, ADMIN, {
    domain: 'https://demo.retailcrm.ru',
    api_key: FAKE_RETAILCRM_API_KEY,
    enabled: true,
  });
  const reg = await call('POST', `/api/register/${n}`);
  expect(reg.status).toBe(200);
  return new URL(reg.data.account_url).searchParams.get('token') as string;
}

const dial = (enterprise: string, uid: string) => ({
  enterprise_number: enterprise,
  event_type: 'dial',
  payload: { Token: `pbx-${enterprise}`, UniqueId: uid, CallType: 0, Phone: '+79001234567', Extensions: ['150'] },
});

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    // One attempt, no backoff: a failed delivery is a dead letter right away.
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', QUEUE_ATTEMPTS: '1', QUEUE_RETRY_BASE_MS: '0' }),
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
  });
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  await srv.storage.upsertEnterprise({ number: '0500', name: 'Other', pbxToken: 'pbx-0500' });
  await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150' });
  jwtA = await configureAndRegister('0367');
  jwtB = await configureAndRegister('0500');
  await insertCallLogs(srv.storage, {
    enterpriseNumber: '0367',
    incomingCallId: 'U-1',
    failedCallId: 'U-2',
    apiKey: FAKE_RETAILCRM_API_KEY,
  });
  await srv.storage.insertIntegrationLog({
    enterpriseNumber: '0500',
    integrationType: 'retailcrm',
    eventType: 'dial',
    status: 'success',
    callUniqueId: 'U-1',
    requestData: { data: { phone: '+79991234567' } },
  });
});

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('GET /logs filters', () => {
  const ids = async (query: string, token = ADMIN) => {
    const res = await call('GET', `/api/logs/0367?${query}`, token);
    expect(res.status).toBe(200);
    return res.data.items.map((i: { call_unique_id: string }) => i.call_unique_id);
  };
  const only = async (query: string) => {
    const res = await call('GET', `/api/logs/0367?${query}`);
    expect(res.status, JSON.stringify(res.data)).toBe(200);
    return res.data.items
      .map((i: { call_unique_id: string | null }) => i.call_unique_id)
      .filter((x: string | null) => x?.startsWith('U-'));
  };

  it('filters by call id, phone, event, status and time, for the link of its own enterprise only', async () => {
    expect(await only('call_id=U-1')).toEqual(['U-1']);
    expect(await only('call_unique_id=U-2')).toEqual(['U-2']);
    expect(await only('phone=%2B7%20999%20123-45-67')).toEqual(['U-1']);
    // A national-format number finds the E.164 one (last 10 digits), also inside an upload's calls[].
    expect(await only('phone=8%20(495)%20111-22-33')).toEqual(['U-2']);
    expect(await only('phone=1122')).toEqual(['U-2']);
    expect(await only('event=hangup')).toEqual(['U-2']);
    expect(await only('status=error')).toEqual(['U-2']);
    expect(await only('status=warning')).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await only(`since=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await only(`until=${encodeURIComponent(future)}&call_id=U-1`)).length).toBe(1);
    expect(await only('since=2020-01-01&call_id=U-1&status=success&event=dial')).toEqual(['U-1']);
    // The enterprise link reads its own rows: 0500's row with the same call id is not among them.
    const mine = await ids('event=dial&call_id=U-1', jwtA);
    expect(mine).toEqual(['U-1']);
    expect((await call('GET', '/api/logs/0367?call_id=U-1', jwtB)).status).toBe(403);
  });

  it('rows carry call id, direction, phone and masked request/response', async () => {
    const res = await call('GET', '/api/logs/0367?call_id=U-2', jwtA);
    const [row] = res.data.items;
    expect(row).toMatchObject({
      event_type: 'hangup',
      status: 'error',
      call_unique_id: 'U-2',
      error_message: 'RetailCRM answered 400',
      direction: null,
      phone: null,
      response_data: null,
    });
    expect(row.request_data.api_key).toBe('***');
    expect(row.request_data.data.calls[0].phone).toBe('+74951112233');
    expect(JSON.stringify(res.data)).not.toContain(FAKE_RETAILCRM_API_KEY);
  });

  it.each([
    'status=bogus',
    'status=success&status=error',
    'since=yesterday',
    'since=2026-13-45',
    'until=1',
    'since=2026-12-02&until=2026-12-01',
    'phone=abc',
    'phone=12',
    `call_id=${'x'.repeat(200)}`,
    'event=not%20an%20event',
    'limit=1000',
    'offset=-1',
    'integration_type=%27%3B%20drop',
  ])('refuses %s with 400 invalid_query', async (query) => {
    const res = await call('GET', `/api/logs/0367?${query}`);
    expect(res.status).toBe(400);
    expect(res.data).toMatchObject({ ok: false, error: 'invalid_query' });
  });

  it('refuses a NUL byte in a filter with 400 before any query runs (the server-wide input guard)', async () => {
    const res = await call('GET', '/api/logs/0367?call_id=%00x');
    expect(res.status).toBe(400);
    expect(res.data).toMatchObject({ ok: false, error: 'nul_character' });
  });
});

describe('dead letters', () => {
  let deadId: number;
  let foreignId: number;

  beforeAll(async () => {
    srv.configCache.invalidate('0367');
    srv.enablementCache.invalidate('0367');
    expect((await srv.enablementCache.get('0367'))?.retailcrm).toBe(true);
    // RetailCRM refuses the call event as invalid (not retryable): the delivery becomes a dead letter.
    fake.failNext({ status: 400, path: '/telephony/call/event', times: 1 });
    const accepted = await fetch(`${srv.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dial('0367', 'DL-1')),
    });
    expect(accepted.status).toBe(202);
    await srv.telephony.pipeline.onIdle();
    const [row] = await srv.storage.listEnterpriseDeadLetters({ enterpriseNumber: '0367', limit: 1 });
    expect(row).toMatchObject({ queue: DELIVERY_QUEUE, resentAt: null });
    deadId = (row as { id: number }).id;
    foreignId = await srv.storage.insertDeadLetter({
      queue: DELIVERY_QUEUE,
      enterpriseNumber: '0500',
      jobId: '0500|B-1|dial|retailcrm',
      payload: dial('0500', 'B-1'),
      errorMessage: 'x',
      attempts: 1,
    });
  });

  it('lists and shows its own dead letters with the secrets masked', async () => {
    const list = await call('GET', '/api/dead-letters/0367', jwtA);
    expect(list.status).toBe(200);
    expect(list.data.items).toEqual([
      {
        id: deadId,
        queue: DELIVERY_QUEUE,
        enterprise_number: '0367',
        job_id: '0367|DL-1|dial|retailcrm',
        call_unique_id: 'DL-1',
        event_type: 'dial',
        error_message: expect.any(String),
        attempts: 1,
        created_at: expect.any(String),
        resent_at: null,
      },
    ]);
    const detail = await call('GET', `/retailcrm-admin/api/dead-letters/0367/${deadId}`, jwtA);
    expect(detail.status).toBe(200);
    expect(detail.data.item.payload.payload).toMatchObject({ UniqueId: 'DL-1', Token: '***' });
    expect(detail.data.item.resendable).toBe(true);
    expect((await call('GET', `/api/dead-letters/0367?before=${deadId}`, jwtA)).data.items).toEqual([]);
    expect((await call('GET', '/api/dead-letters/0367?limit=0', jwtA)).status).toBe(400);
    expect((await call('GET', '/api/dead-letters/0367/abc', jwtA)).data.error).toBe('invalid_id');
  });

  it('never shows or re-sends another enterprise\u2019s dead letter', async () => {
    expect((await call('GET', '/api/dead-letters/0500', jwtA)).status).toBe(403);
    expect((await call('GET', `/api/dead-letters/0367/${foreignId}`, jwtA)).status).toBe(404);
    const resend = await call('POST', `/api/dead-letters/0367/${foreignId}/resend`, jwtA);
    expect(resend).toMatchObject({ status: 404, data: { error: 'not_found' } });
    expect((await srv.storage.getEnterpriseDeadLetter('0500', foreignId))?.resentAt).toBeNull();
    expect((await call('GET', '/api/dead-letters/0367', jwtA)).data.items.map((i: { id: number }) => i.id)).toEqual([
      deadId,
    ]);
  });

  it('re-sends through the delivery queue once; a second re-send while queued is a no-op', async () => {
    const before = fake.state.callEvents.length;
    const enqueued = srv.telephony.state().queue_stats.enqueued;
    const first = await call('POST', `/retailcrm-admin/api/dead-letters/0367/${deadId}/resend`, jwtA);
    expect(first.status).toBe(202);
    expect(first.data).toMatchObject({ ok: true, id: deadId, status: 'queued', resent_at: expect.any(String) });
    const second = await call('POST', `/api/dead-letters/0367/${deadId}/resend`, jwtA);
    expect(second.status).toBe(202);
    expect(second.data).toMatchObject({ ok: true, id: deadId, status: 'queued', duplicate: true });
    expect(srv.telephony.state().queue_stats.enqueued).toBe(enqueued + 1);
    await srv.telephony.pipeline.onIdle();
    // Delivered this time: RetailCRM got the call event of the dead letter.
    const delivered = fake.state.callEvents.slice(before);
    expect(delivered).toHaveLength(1);
    expect(JSON.stringify(delivered[0])).toContain('DL-1');
    const [row] = (await call('GET', '/api/dead-letters/0367', jwtA)).data.items;
    expect(row.resent_at).toBe(first.data.resent_at);
  });

  it('a failed enqueue releases the claim (503) and a non-delivery dead letter is refused (409)', async () => {
    const id = await srv.storage.insertDeadLetter({
      queue: DELIVERY_QUEUE,
      enterpriseNumber: '0367',
      jobId: '0367|DL-2|dial|retailcrm',
      payload: dial('0367', 'DL-2'),
      errorMessage: 'x',
      attempts: 5,
    });
    const original = srv.telephony.enqueue;
    srv.telephony.enqueue = async () => {
      throw new Error('redis down');
    };
    try {
      const res = await call('POST', `/api/dead-letters/0367/${id}/resend`, jwtA);
      expect(res).toMatchObject({ status: 503, data: { error: 'queue_unavailable' } });
    } finally {
      srv.telephony.enqueue = original;
    }
    expect((await srv.storage.getEnterpriseDeadLetter('0367', id))?.resentAt).toBeNull();
    expect((await call('POST', `/api/dead-letters/0367/${id}/resend`, jwtA)).status).toBe(202);

    const other = await srv.storage.insertDeadLetter({
      queue: 'phone-call-results',
      enterpriseNumber: '0367',
      jobId: 'cmd-1',
      payload: { externalId: 'cmd-1', phone: '+79001234567' },
      errorMessage: 'x',
      attempts: 5,
    });
    const refused = await call('POST', `/api/dead-letters/0367/${other}/resend`, jwtA);
    expect(refused).toMatchObject({ status: 409, data: { error: 'not_resendable' } });
    const listed = (await call('GET', '/api/dead-letters/0367', jwtA)).data.items[0];
    expect(listed).toMatchObject({ id: other, call_unique_id: 'cmd-1', event_type: null });
  });
});

describe('admin page entry points', () => {
  it('POST accountUrl answers like GET (303 to the same URL); the favicon is served', async () => {
    const res = await fetch(`${srv.url}/retailcrm-admin/?enterprise_number=0367&token=t`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/retailcrm-admin/?enterprise_number=0367&token=t');
    const page = await fetch(srv.url + (res.headers.get('location') as string));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('favicon.svg');
    const icon = await fetch(`${srv.url}/retailcrm-admin/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toContain('image/svg+xml');
  });
});
