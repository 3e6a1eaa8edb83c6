import { Writable } from 'node:stream';
import { PhoneClient } from '@callbridge/phone-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DEMO_PHONE_USER, prepareDemo } from '../src/demo.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testEnv } from './helpers.js';

// `--demo` end to end: what it prints is enough to log the phone app in and to play RetailCRM's "call" click.

const lines: string[] = [];
let demo: Awaited<ReturnType<typeof prepareDemo>>;
let srv: RunningServer;
let ready: Record<string, string | Record<string, string>>;

beforeAll(async () => {
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  demo = await prepareDemo(logger);
  const config = loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' });
  srv = await startServer({ config, logger, inMemory: true, originator: demo.originator, demoState: demo.state });
  await demo.seed(srv, config);
  const line = lines.map((l) => JSON.parse(l)).find((l) => String(l.msg).startsWith('demo ready'));
  expect(line).toBeDefined();
  ready = line;
});

afterAll(async () => {
  demo?.close();
  await srv?.close();
});

describe('--demo', () => {
  it('prints the phone user, the simulator command, the QR request and a click-to-call URL', () => {
    expect(ready.phone_user).toEqual({ username: 'anna', extension: '150' });
    expect(ready.phone_sim).toBe(
      `callbridge-phone-sim --url ${srv.url} --user anna --password ${DEMO_PHONE_USER.password} --devices 1`,
    );
    expect(ready.qr_token).toContain(`${srv.url}/api/phone-admin/qr/0367`);
    expect(ready.click_to_call).toMatch(/^curl '.+\/retailcrm\/make-call\?secret=[\w-]{43}&/);
  });

  it('the seeded phone user gets the command when the printed click-to-call URL is requested', async () => {
    const phone = new PhoneClient({ baseUrl: srv.url, deviceId: 'demo-device-0001' });
    await phone.login(DEMO_PHONE_USER.username, DEMO_PHONE_USER.password);
    await phone.registerDevice();
    const poll = phone.pull({ waitSeconds: 10 });
    for (let i = 0; i < 250 && srv.phone.protocol.stats().heldPolls === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const url = /^curl '(.+)'$/.exec(String(ready.click_to_call))?.[1] as string;
    const made = await fetch(url);
    const body = (await made.json()) as { via?: string; command_id?: string };
    expect(made.status).toBe(200);
    expect(body.via).toBe('phone');
    expect(await poll).toMatchObject({ status: 'command', command: { id: body.command_id, phone: '+79001234567' } });
  });

  it('the QR request it prints issues a one-time login token for the same user', async () => {
    const res = await fetch(`${srv.url}/api/phone-admin/qr/0367`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ extension: '150' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, username: 'anna', extension: '150' });
  });

  it('GET /demo/retailcrm/state shows what the fake RetailCRM received (admin token only)', async () => {
    const event = (event_type: string, payload: Record<string, unknown>) =>
      fetch(`${srv.url}/retailcrm/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          enterprise_number: '0367',
          event_type,
          payload: { Token: 'demo-pbx-token', UniqueId: 'demo.1', CallType: 0, Phone: '+79001234567', ...payload },
        }),
      });
    expect((await event('dial', { Extensions: ['150'] })).status).toBe(202);
    expect(
      (
        await event('hangup', {
          Extensions: ['150'],
          CallStatus: '2',
          StartTime: '2026-11-30 10:00:00',
          EndTime: '2026-11-30 10:00:30',
        })
      ).status,
    ).toBe(202);
    await srv.telephony.pipeline.onIdle();
    const path = `${srv.url}/demo/retailcrm/state`;
    expect((await fetch(path)).status).toBe(401);
    expect((await fetch(path, { headers: { authorization: 'Bearer wrong-token-value' } })).status).toBe(401);
    const res = await fetch(path, { headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const state = (await res.json()) as Record<string, Array<Record<string, unknown>>>;
    expect(state.call_events?.filter((e) => e.callExternalId === 'demo.1').map((e) => e.type)).toEqual([
      'in',
      'hangup',
    ]);
    expect(state.uploaded_calls?.filter((c) => c.externalId === 'demo.1')).toMatchObject([
      // The PBX clock is the server's default (UTC); the demo account reads dates in Moscow (UTC+3).
      { phone: '+79001234567', result: 'answered', duration: 30, code: '150', userId: 18, date: '2026-11-30 13:00:00' },
    ]);
    expect(state.time_zone).toBe('Europe/Moscow');
    expect(state.tasks).toEqual([]);
    expect(state.users?.map((u) => u.id)).toEqual([18, 19, 22]);
    expect(Object.keys(state.integration_modules ?? {})).toHaveLength(1);
  });
});
