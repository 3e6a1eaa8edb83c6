import { PhoneClient } from '@callbridge/phone-protocol';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { callJson, registeredCallbackSecret, testClientFactory, testEnv, until } from './helpers.js';

// Issue 11, "done when": PBX events and phone call results reach RetailCRM through one egress, so one outage
// opens one breaker per account, whichever path met it first, and the other path is refused without a request.

const CUSTOMER = '+79001234567';
const HALF_OPEN_MS = 1500;
const fake = createFakeRetailCrm({ rateLimit: false, users: [{ id: 18, firstName: 'Anna' }] });
const msw = setupServer(...fake.handlers);
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
let srv: RunningServer;
let secret: string;
let anna: PhoneClient;

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) =>
  callJson(srv.url, method, path, body, headers);

const breaker = () => srv.telephony.state().breakers['0367:retailcrm'];
const outage = () => fake.failNext({ status: 500, times: 1000 });
const recover = () => fake.reset();
const callEventsFor = (uid: string) =>
  fake.requestsTo('/telephony/call/event', 'POST').filter((r) => String(r.form?.event ?? '').includes(uid)).length;
const uploadRequests = () => fake.requestsTo('/telephony/calls/upload', 'POST').length;
const dial = (uid: string) => ({
  enterprise_number: '0367',
  event_type: 'dial',
  payload: { Token: 'pbx-0367', UniqueId: uid, CallType: 0, Phone: CUSTOMER, Extensions: ['150'], Trunk: 't' },
});
const logsOf = async (query: string) =>
  (await call('GET', `/api/logs/0367?${query}`)).data.items as Array<{ status: string; error_message: string }>;

/** make-call through the phone app, the device reports the call; returns the command id. */
async function phoneCall(): Promise<string> {
  const made = await call('GET', `/retailcrm/make-call?secret=${secret}&clientId=0367&phone=%2B79001234567&userId=18`);
  expect(made.data).toMatchObject({ ok: true, via: 'phone' });
  expect(await anna.pull({ waitSeconds: 1 })).toMatchObject({ status: 'command' });
  await anna.sendCallResult({ callRequestId: made.data.command_id, status: 'connected', durationSeconds: 7 });
  return made.data.command_id as string;
}

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    config: loadConfig({
      ...testEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      BREAKER_FAILURES: '3',
      BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      // A refused event job comes back soon, so it is delivered right after the recovery.
      QUEUE_ATTEMPTS: '100',
      QUEUE_RETRY_BASE_MS: '100',
      QUEUE_RETRY_MAX_MS: '200',
    }),
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
    phone: { upload: { retryDelaysMs: [30], sweepIntervalMs: 50, maxAttempts: 1000 } },
  });
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150' });
  const put = await call('PUT', '/api/config/0367', {
    domain: 'https://demo.retailcrm.ru',
    api_key: FAKE_RETAILCRM_API_KEY,
    enabled: true,
  });
  expect(put.status).toBe(200);
  expect((await call('POST', '/api/register/0367')).status).toBe(200);
  secret = registeredCallbackSecret(fake);
  expect((await call('POST', '/api/save-extensions/0367', { extensions: { '18': '150' } })).data.sync).toEqual({
    ok: true,
  });
  srv.configCache.invalidate('0367');
  srv.enablementCache.invalidate('0367');
  expect((await srv.enablementCache.get('0367'))?.retailcrm).toBe(true);
  const created = await call('POST', '/api/phone-admin/users/0367', {
    username: 'anna',
    password: 'anna-password-1',
    retailcrm_user_id: 18,
  });
  expect(created.status).toBe(201);
  anna = new PhoneClient({ baseUrl: srv.url, deviceId: 'anna-device-0001', heartbeatEveryPolls: 1 });
  await anna.login('anna', 'anna-password-1');
  await anna.registerDevice('fcm-token');
  // Starting PGlite takes long on a loaded machine.
}, 120_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('one egress to RetailCRM', () => {
  it('an outage opens one breaker per account for PBX events and phone results alike', async () => {
    // 1. PBX events meet the outage first: three failed call events open the account's breaker.
    outage();
    expect(
      (await call('POST', '/api/events', dial('uid-outage-1'), { 'content-type': 'application/json' })).status,
    ).toBe(202);
    await until(() => breaker() === 'open', 'breaker opened by PBX events', 15_000);
    expect(callEventsFor('uid-outage-1')).toBe(3);

    // A phone result during the outage is refused by that same breaker: logged, kept in the outbox, no request.
    const uploadsBefore = uploadRequests();
    const first = await phoneCall();
    await until(
      async () => (await logsOf(`call_unique_id=${first}&event_type=phone_call_upload`)).length > 0,
      'refused upload logged',
      15_000,
    );
    const refused = await logsOf(`call_unique_id=${first}&event_type=phone_call_upload`);
    expect(refused[0]).toMatchObject({ status: 'error', error_message: expect.stringMatching(/^circuit_open/) });
    expect(uploadRequests()).toBe(uploadsBefore);
    expect((await srv.phone.calls.get(first))?.uploadState).toBe('pending');

    // RetailCRM recovers: after half-open the outbox's next attempt closes the breaker and the result arrives.
    recover();
    await until(
      async () => (await srv.phone.calls.get(first))?.uploadState === 'uploaded',
      'upload after recovery',
      15_000,
    );
    expect(breaker()).toBe('closed');
    await until(() => srv.telephony.pipeline.stats().delivered === 1, 'the refused PBX event delivered', 15_000);

    // 2. Now phone results meet the outage first: three failed uploads (one request per outbox attempt) open it.
    outage();
    const uploadsBeforeSecond = uploadRequests();
    const second = await phoneCall();
    await until(() => breaker() === 'open', 'breaker opened by phone uploads', 15_000);
    expect(uploadRequests() - uploadsBeforeSecond).toBe(3);
    // A PBX event during that outage is refused by the same breaker without reaching RetailCRM.
    expect(
      (await call('POST', '/api/events', dial('uid-outage-2'), { 'content-type': 'application/json' })).status,
    ).toBe(202);
    await until(
      async () =>
        (await logsOf('call_unique_id=uid-outage-2&event_type=dial')).some((l) =>
          /^circuit_open/.test(l.error_message),
        ),
      'refused call event logged',
      15_000,
    );
    expect(callEventsFor('uid-outage-2')).toBe(0);
    expect((await srv.phone.calls.get(second))?.uploadState).toBe('pending');
  });
});
