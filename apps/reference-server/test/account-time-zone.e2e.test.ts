// The RetailCRM account's own time zone (GET /api/v5/settings) decides how call dates are written: a PBX in Minsk
// (UTC+3) and an account in Vladivostok (UTC+10) through the whole server to the fake RetailCRM.
import { Writable } from 'node:stream';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testClientFactory, testEnv } from './helpers.js';

const CUSTOMER = '+79001234567';
const users = [{ id: 18, firstName: 'Anna' }];
// Two accounts: one reads dates in Vladivostok, the other cannot answer its settings.
const vladivostok = createFakeRetailCrm({
  url: 'https://vladivostok.retailcrm.ru',
  rateLimit: false,
  users,
  timeZone: 'Asia/Vladivostok',
});
const broken = createFakeRetailCrm({ url: 'https://broken.retailcrm.ru', rateLimit: false, users });
const msw = setupServer(...vladivostok.handlers, ...broken.handlers);
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
const logLines: Array<Record<string, unknown>> = [];
let srv: RunningServer;

async function post(path: string, body: unknown, headers: Record<string, string> = admin, method = 'POST') {
  const res = await fetch(srv.url + path, { method, headers, body: JSON.stringify(body) });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}

const payload = (enterprise: string, uid: string, extra: Record<string, unknown>) => ({
  enterprise_number: enterprise,
  payload: { Token: `pbx-${enterprise}`, UniqueId: uid, CallType: 0, Phone: CUSTOMER, Extensions: ['150'], ...extra },
});
async function play(enterprise: string, uid: string, status: '2' | '0') {
  const dial = { event_type: 'dial', ...payload(enterprise, uid, {}) };
  const hangup = {
    event_type: 'hangup',
    ...payload(enterprise, uid, {
      CallStatus: status,
      StartTime: '2026-11-23 10:00:00',
      EndTime: '2026-11-23 10:01:05',
    }),
  };
  for (const event of [dial, hangup])
    expect((await post('/api/events', event, { 'content-type': 'application/json' })).status).toBe(202);
  await srv.telephony.pipeline.onIdle();
}

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    // The server's default zone is UTC: neither side of this test uses it.
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', RETAILCRM_TIME_ZONE: 'UTC' }),
    logger: createLogger(
      'warn',
      new Writable({
        write(chunk, _encoding, done) {
          logLines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    ),
    inMemory: true,
    clientFactory: testClientFactory,
  });
  for (const [number, fake] of [
    ['0367', vladivostok],
    ['0368', broken],
  ] as const) {
    await srv.storage.upsertEnterprise({ number, name: `Shop ${number}`, pbxToken: `pbx-${number}` });
    await srv.storage.upsertInternalPhone({ enterpriseNumber: number, phoneNumber: '150' });
    const put = await post(
      `/api/config/${number}`,
      {
        domain: fake.url,
        api_key: FAKE_RETAILCRM_API_KEY,
        enabled: true,
        time_zone: 'Europe/Minsk',
        missed_call_task: true,
      },
      admin,
      'PUT',
    );
    expect(put.status).toBe(200);
    await srv.context.service.saveExtensions(number, { '18': '150' });
    srv.configCache.invalidate(number);
    srv.enablementCache.invalidate(number);
  }
  broken.failNext({ method: 'GET', path: '/settings', status: 500, times: 1000 });
}, 120_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe("call dates on the RetailCRM account's clock", () => {
  it('a PBX in Europe/Minsk, an account in Asia/Vladivostok: 10:00 at the PBX arrives as 17:00', async () => {
    await play('0367', '1764000000.1', '2');
    expect(vladivostok.state.uploadedCalls).toMatchObject([
      { externalId: '1764000000.1', date: '2026-11-23 17:00:00', duration: 65, result: 'answered' },
    ]);
    // The settings were read once for the account, not per event.
    expect(vladivostok.state.requests.filter((r) => r.path === '/settings')).toHaveLength(1);
  });

  it('the missed-call task names the time on the same clock', async () => {
    await play('0367', '1764000000.2', '0');
    const task = vladivostok.state.tasks.find((t) => String(t.commentary).includes('1764000000.2'));
    expect(task?.commentary).toBe('Call 1764000000.2 at 2026-11-23 17:00:00 was not answered.');
    expect(vladivostok.state.uploadedCalls.at(-1)).toMatchObject({ date: '2026-11-23 17:00:00' });
    expect(vladivostok.state.requests.filter((r) => r.path === '/settings')).toHaveLength(1);
  });

  it('an account whose settings cannot be read: delivered anyway, on the PBX clock, one warning', async () => {
    await play('0368', '1764000000.3', '2');
    await play('0368', '1764000000.4', '2');
    expect(broken.state.uploadedCalls).toMatchObject([
      { externalId: '1764000000.3', date: '2026-11-23 10:00:00' },
      { externalId: '1764000000.4', date: '2026-11-23 10:00:00' },
    ]);
    expect(broken.state.callEvents.map((e) => e.type)).toEqual(['in', 'hangup', 'in', 'hangup']);
    const warnings = logLines.filter((line) => String(line.msg).includes('account time zone'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ enterprise: '0368', domain: broken.url });
    expect(JSON.stringify(logLines)).not.toContain(FAKE_RETAILCRM_API_KEY);
  });
});
