import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { CORPUS } from './fixtures/pbx-call-corpus.js';
import { testClientFactory, testEnv } from './helpers.js';

const fake = createFakeRetailCrm({
  rateLimit: false,
  users: [
    { id: 18, firstName: 'Anna' },
    { id: 19, firstName: 'Boris' },
    { id: 22, firstName: 'Vera' },
  ],
  customers: [{ id: 1, firstName: 'Ivan', phones: [{ number: '+79001234567' }], managerId: 18 }],
});
const msw = setupServer(...fake.handlers);
let srv: RunningServer;
const TOKENS: Record<string, string> = { '0367': 'pbx-0367', '0368': 'pbx-0368', '0369': 'pbx-0369' };
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };

async function send(path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') {
  const res = await fetch(srv.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}

/** Saves settings and waits until the config cache serves them (flags are read per event from the cache). */
async function configure(enterprise: string, settings: Record<string, unknown>) {
  const r = await send(`/api/config/${enterprise}`, settings, admin, 'PATCH');
  expect(r.status).toBe(200);
  srv.configCache.invalidate(enterprise);
  srv.enablementCache.invalidate(enterprise);
  await srv.configCache.get(enterprise);
}

const sentFor = (uid: string) => ({
  callEvents: fake.state.callEvents
    .filter((e) => e.callExternalId === uid)
    .map(({ at: _at, ...event }) => event as Record<string, unknown>),
  uploadedCalls: fake.state.uploadedCalls.filter((c) => c.externalId === uid),
  tasks: fake.state.tasks
    .filter((t) => String(t.commentary ?? '').includes(uid))
    .map(({ id: _id, at: _at, ...task }) => task as Record<string, unknown>),
});

const logsFor = async (enterprise: string, uid: string) =>
  (await srv.storage.listIntegrationLogs({ enterpriseNumber: enterprise, callUniqueId: uid, limit: 100, offset: 0 }))
    .items;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  srv = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', RETAILCRM_TIME_ZONE: 'UTC' }),
    logger: createLogger('silent'),
    inMemory: true,
    clientFactory: testClientFactory,
  });
  for (const [number, token] of Object.entries(TOKENS)) {
    await srv.storage.upsertEnterprise({ number, name: `Shop ${number}`, pbxToken: token });
    const put = await send(
      `/api/config/${number}`,
      {
        domain: 'https://demo.retailcrm.ru',
        api_key: FAKE_RETAILCRM_API_KEY,
        enabled: true,
        events: { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: true },
        default_country: 'BY',
        time_zone: 'Europe/Minsk',
        recording_wait_seconds: number === '0368' ? 3 : 0,
        missed_call_task: number === '0368',
      },
      admin,
      'PUT',
    );
    expect(put.status).toBe(200);
    for (const phone of ['150', '151', '152', '153']) {
      await srv.storage.upsertInternalPhone({ enterpriseNumber: number, phoneNumber: phone });
    }
    await srv.context.service.saveExtensions(number, { '18': '150', '19': '151', '22': '152' });
    srv.configCache.invalidate(number);
    srv.enablementCache.invalidate(number);
  }
}, 120_000);

afterAll(async () => {
  msw.close();
  await srv?.close();
});

describe('the PBX call corpus (original shapes) through the server to the fake RetailCRM', () => {
  it('has 20+ calls covering every kind the issue names', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(20);
  });

  for (const call of CORPUS) {
    it(call.name, async () => {
      const uid = String(call.events[0]?.payload && (call.events[0].payload as { UniqueId: unknown }).UniqueId);
      // A recording that follows its hangup is posted while the hangup's upload waits (no idle in between).
      const waitsForRecording = call.enterprise === '0368';
      for (const [index, event] of call.events.entries()) {
        const payload = { ...(event.payload as Record<string, unknown>), Token: TOKENS[call.enterprise] };
        const r = await send('/retailcrm/api/events', { enterprise_number: call.enterprise, ...event, payload });
        expect(r.status, JSON.stringify(r.data)).toBe(202);
        const next = call.events[index + 1];
        if (waitsForRecording && event.event_type === 'hangup' && next?.event_type === 'download') {
          // The download must find the hangup's upload holding (not still sending its call event), as a PBX that
          // posts the recording seconds later always does.
          await vi.waitFor(() => expect(srv.telephony.state().recordings_waiting).toBe(1), { timeout: 5_000 });
        } else {
          await srv.telephony.pipeline.onIdle();
        }
      }
      await srv.telephony.pipeline.onIdle();
      const sent = sentFor(uid);
      expect(sent.callEvents).toEqual(call.expect.callEvents);
      expect(sent.uploadedCalls).toEqual(call.expect.uploadedCalls);
      expect(sent.tasks).toEqual(call.expect.tasks ?? []);
      const logs = await logsFor(call.enterprise, uid);
      for (const status of call.expect.logStatuses ?? []) expect(logs.map((l) => l.status)).toContain(status);
      // Every row of the call carries its id and direction; the phone is E.164 unless the caller hid it.
      for (const row of logs) {
        expect(row.direction).toMatch(/^(in|out)$/);
        if (call.expect.uploadedCalls[0]?.phone !== 'anonymous' && row.status !== 'skipped') {
          expect(row.phone).toMatch(/^\+\d{7,15}$/);
        }
      }
      if (call.expect.uploadedCalls.length || call.expect.callEvents.length) expect(logs.length).toBeGreaterThan(0);
    });
  }
});

describe('every setting gates exactly what it names (enterprise 0369), read per event from the config cache', () => {
  let n = 0;
  const inCall = (extra: Record<string, unknown> = {}) => {
    const uid = `1764590000.${++n}`;
    const base = { UniqueId: uid, CallType: 0, Phone: '+375293190000', Token: 'pbx-0369', ...extra };
    return {
      uid,
      events: [
        { event_type: 'dial', payload: { ...base, Extensions: ['150', '151'] } },
        {
          event_type: 'hangup',
          payload: {
            ...base,
            Extensions: ['151'],
            CallStatus: '2',
            StartTime: '2026-11-30 12:00:00',
            EndTime: '2026-11-30 12:00:30',
          },
        },
      ],
    };
  };
  const outCall = () => inCall({ CallType: 1, Phone: '+375293190001', Extensions: ['150'] });
  const play = async (call: { uid: string; events: Array<Record<string, unknown>> }) => {
    for (const event of call.events) {
      const payload = { ...(event.payload as Record<string, unknown>) };
      if (event.event_type === 'hangup' && payload.CallType === 1) payload.Extensions = ['150'];
      const r = await send('/api/events', { enterprise_number: '0369', ...event, payload });
      expect(r.status).toBe(202);
      await srv.telephony.pipeline.onIdle();
    }
    return sentFor(call.uid);
  };
  const types = (sent: ReturnType<typeof sentFor>) => sent.callEvents.map((e) => e.type);
  const all = { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: true };

  it('incoming: off -> no `in` card (hangup and history still sent); on -> the card', async () => {
    await configure('0369', { events: { ...all, incoming: false } });
    const off = inCall();
    const sent = await play(off);
    expect(types(sent)).toEqual(['hangup']);
    expect(sent.uploadedCalls).toHaveLength(1);
    expect((await logsFor('0369', off.uid)).map((l) => l.errorMessage)).toContain('incoming_disabled');
    await configure('0369', { events: { incoming: true } });
    expect(types(await play(inCall()))).toEqual(['in', 'hangup']);
  });

  it('outgoing: off -> no `out` card; on -> the card', async () => {
    await configure('0369', { events: { ...all, outgoing: false } });
    expect(types(await play(outCall()))).toEqual(['hangup']);
    await configure('0369', { events: { outgoing: true } });
    expect(types(await play(outCall()))).toEqual(['out', 'hangup']);
  });

  it('hangup: off -> no hangup call event (card and history still sent); on -> sent', async () => {
    await configure('0369', { events: { ...all, hangup: false } });
    const sent = await play(inCall());
    expect(types(sent)).toEqual(['in']);
    expect(sent.uploadedCalls).toHaveLength(1);
    await configure('0369', { events: { hangup: true } });
    expect(types(await play(inCall()))).toEqual(['in', 'hangup']);
  });

  it('history: off -> no upload, not even for a download; on -> uploaded', async () => {
    await configure('0369', { events: { ...all, history: false } });
    const call = inCall();
    const sent = await play(call);
    expect(types(sent)).toEqual(['in', 'hangup']);
    expect(sent.uploadedCalls).toEqual([]);
    const download = {
      uid: call.uid,
      events: [
        { event_type: 'download', payload: { ...(call.events[1]?.payload as object), RecordUrl: 'https://r/1' } },
      ],
    };
    expect((await play(download)).uploadedCalls).toEqual([]);
    await configure('0369', { events: { history: true } });
    expect((await play(inCall())).uploadedCalls).toHaveLength(1);
  });

  it('smart_redirect: off -> default route at both paths; on -> the responsible manager', async () => {
    const ask = (path: string) =>
      send(path, { enterprise_number: '0369', phone: '+79001234567' }, { 'x-pbx-token': 'pbx-0369' });
    await configure('0369', { events: { ...all, smart_redirect: false } });
    for (const path of ['/api/smart-redirect', '/retailcrm/api/smart-redirect']) {
      expect((await ask(path)).data).toMatchObject({ ok: true, extension: null, reason: 'smart_redirect_disabled' });
    }
    await configure('0369', { events: { smart_redirect: true } });
    for (const path of ['/api/smart-redirect', '/retailcrm/api/smart-redirect']) {
      expect((await ask(path)).data).toMatchObject({ ok: true, extension: '150' });
    }
  });

  it('send_internal_calls: off -> an internal call is not sent; on -> sent with the other extension', async () => {
    const internal = () => inCall({ CallType: '2', Phone: '150', Extensions: ['152'] });
    const fix = (call: ReturnType<typeof inCall>) => {
      for (const e of call.events) (e.payload as Record<string, unknown>).Extensions = ['152'];
      return call;
    };
    await configure('0369', { send_internal_calls: false });
    const off = await play(fix(internal()));
    expect(off).toEqual({ callEvents: [], uploadedCalls: [], tasks: [] });
    await configure('0369', { send_internal_calls: true });
    const on = await play(fix(internal()));
    expect(types(on)).toEqual(['in', 'hangup']);
    expect(on.uploadedCalls).toMatchObject([{ phone: '150', code: '152', userId: 22, type: 'in' }]);
    await configure('0369', { send_internal_calls: false });
  });

  it('default_country: a national number is read in the enterprise country', async () => {
    await configure('0369', { default_country: 'RU' });
    expect((await play(inCall({ Phone: '89001112233' }))).callEvents[0]?.phone).toBe('+79001112233');
    await configure('0369', { default_country: 'BY' });
    expect((await play(inCall({ Phone: '80291112233' }))).callEvents[0]?.phone).toBe('+375291112233');
  });

  it('missed_call_task: off -> no task for a missed call (0367); on -> one (see the corpus, 0368)', async () => {
    const missed = inCall();
    const hangup = missed.events[1]?.payload as Record<string, unknown>;
    hangup.CallStatus = '0';
    hangup.Extensions = [''];
    await configure('0369', { missed_call_task: false });
    expect((await play(missed)).tasks).toEqual([]);
    await configure('0369', { missed_call_task: true });
    const again = inCall({ Phone: '+79001234567' });
    Object.assign(again.events[1]?.payload as object, { CallStatus: '0', Extensions: [''] });
    expect((await play(again)).tasks).toMatchObject([{ performerId: 18, phone: '+79001234567' }]);
    await configure('0369', { missed_call_task: false });
  });

  it('a PUT without events or settings keeps the stored ones (nothing flips silently)', async () => {
    await configure('0369', { events: { smart_redirect: true }, recording_wait_seconds: 7, default_country: 'RU' });
    const put = await send('/api/config/0369', { domain: 'https://demo.retailcrm.ru' }, admin, 'PUT');
    expect(put.status).toBe(200);
    expect(put.data.config).toMatchObject({
      events: { smart_redirect: true },
      recording_wait_seconds: 7,
      default_country: 'RU',
      has_api_key: true,
    });
    await configure('0369', { recording_wait_seconds: 0, default_country: 'BY' });
  });

  it('bad settings are 4xx with a code', async () => {
    for (const body of [
      { recording_wait_seconds: 121 },
      { recording_wait_seconds: -1 },
      { default_country: 'Belarus' },
      { time_zone: 'Mars/Olympus' },
      { send_internal_calls: 'maybe' },
    ]) {
      const r = await send('/api/config/0369', body, admin, 'PATCH');
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(typeof r.data.error).toBe('string');
    }
  });
});

describe('PBX intake: token sources, both paths, bad input', () => {
  const event = (uid: string, payload: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    enterprise_number: '0367',
    event_type: 'start',
    payload: { UniqueId: uid, CallType: 0, Phone: '+375293190009', ...payload },
    ...extra,
  });

  it('accepts the token from X-PBX-Token, Bearer, a Token header, the body Token and payload.Token, at both paths', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, string>]> = [
      [event('t1'), { 'x-pbx-token': 'pbx-0367' }],
      [event('t2'), { authorization: 'Bearer pbx-0367' }],
      [event('t3'), { token: 'pbx-0367' }],
      [event('t4', {}, { Token: 'pbx-0367' }), {}],
      [event('t5', { Token: 'pbx-0367' }), {}],
    ];
    for (const path of ['/api/events', '/retailcrm/api/events']) {
      for (const [body, headers] of cases) {
        const r = await send(path, body, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(202);
      }
    }
    const wrong: Array<Record<string, string>> = [{}, { token: 'pbx-0368' }, { 'x-pbx-token': 'nope' }];
    for (const headers of wrong) {
      const r = await send('/retailcrm/api/events', event('t6'), headers);
      expect(r.status).toBe(401);
      expect(r.data.error).toBe('unauthorized');
    }
  });

  it('bad events are 422 invalid_event with the field, never a 500', async () => {
    const headers = { 'x-pbx-token': 'pbx-0367' };
    for (const body of [
      event('b1', { StartTime: '30.11.2026 10:00' }, { event_type: 'hangup' }),
      event('b2', {}, { event_type: 'ring' }),
      event('b3', { CallType: 'incoming' }, { event_type: 'dial' }),
      { enterprise_number: '0367', event_type: 'dial', payload: { Phone: '+375293190009' } },
    ]) {
      const r = await send('/retailcrm/api/events', body, headers);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.data.error).toBe('invalid_event');
    }
    expect((await send('/retailcrm/api/events', '{"enterprise_number":', headers)).status).toBe(400);
  });
});
