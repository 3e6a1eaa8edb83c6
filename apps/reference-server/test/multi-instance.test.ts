import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhoneClient } from '@callbridge/phone-protocol';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { Storage } from '../src/storage/types.js';
import { createTestDatabase, testEnv } from './helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { allEvents, fastDeliveryEnv, hangupEvent, postJson, randomPrefix, uploadsOf } from './support/fixtures.js';
import { waitForEnablement } from './support/in-process.js';
import { freePort, pidOwningConnection } from './support/net.js';
import { buildServerBundle, type ServerProcess, spawnServerProcess } from './support/server-process.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };

/**
 * Two real server processes (the tsup bundle, `node dist/main.js` style) on one PostgreSQL database and one
 * Redis prefix, delivering to the fake RetailCRM served over loopback HTTP.
 */
describe.skipIf(!pgUrl || !redisUrl)('two server processes on one PostgreSQL and one Redis', () => {
  let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let crm: FakeCrmServer;
  let storage: Storage;
  let dataDir: string;
  const procs: Record<'A' | 'B', ServerProcess | undefined> = { A: undefined, B: undefined };
  const ports = { A: 0, B: 0 };
  let env: Record<string, string>;
  const spawnAs = (name: 'A' | 'B') => {
    const p = spawnServerProcess(name, bundle.mainJs, ports[name], { ...env, DATA_DIR: join(dataDir, name) });
    procs[name] = p;
    return p;
  };
  const url = (name: 'A' | 'B') => (procs[name] as ServerProcess).url;
  const dumpOnFailure = () =>
    onTestFailed(() => {
      for (const p of Object.values(procs))
        if (p) console.error(`--- ${p.name} output ---\n${p.output().slice(-4000)}`);
    });
  const callEventsOf = (id: string, type: string) =>
    crm.fake.state.callEvents.filter((e) => e.callExternalId === id && e.type === type).length;

  beforeAll(async () => {
    [bundle, db, crm, ports.A, ports.B] = await Promise.all([
      buildServerBundle(),
      createTestDatabase(pgUrl as string),
      startFakeCrmServer({ users: [{ id: 18, firstName: 'Anna' }] }),
      freePort(),
      freePort(),
    ]);
    dataDir = mkdtempSync(join(tmpdir(), 'cb-multi-'));
    env = {
      ...testEnv,
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl as string,
      REDIS_PREFIX: randomPrefix(),
      ...fastDeliveryEnv,
      DELIVERY_TIMEOUT_MS: '5000',
    };
    // A first: it runs the migrations B then finds done.
    await spawnAs('A').ready();
    await spawnAs('B').ready();
    storage = await createPostgresStorage(db.url, 2);
    await storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
    const put = await postJson(
      `${url('A')}/api/config/0367`,
      { domain: crm.url, api_key: crm.fake.apiKey, enabled: true, events: allEvents },
      admin,
      'PUT',
    );
    expect(put.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(procs).map((p) => p?.stop()));
    await storage?.close();
    await crm?.close();
    await db?.drop();
    bundle?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const waitForEnabled = (name: 'A' | 'B', enabled: boolean, timeoutMs: number) =>
    waitForEnablement(url(name), enabled, timeoutMs);

  it('a config change saved on A is seen by B within a second, and back (LISTEN/NOTIFY)', async () => {
    dumpOnFailure();
    await waitForEnabled('B', true, 5000);
    await waitForEnabled('A', true, 5000);

    const off = await postJson(`${url('A')}/api/config/0367`, { enabled: false }, admin, 'PATCH');
    expect(off.status).toBe(200);
    expect(await waitForEnabled('B', false, 1000)).toBeLessThan(1000);

    const on = await postJson(`${url('B')}/api/config/0367`, { enabled: true }, admin, 'PATCH');
    expect(on.status).toBe(200);
    expect(await waitForEnabled('A', true, 1000)).toBeLessThan(1000);
    await waitForEnabled('B', true, 1000);
  });

  it('the same PBX event posted to A and to B reaches the CRM once', async () => {
    dumpOnFailure();
    const event = hangupEvent('mi.dup.1');
    const [a, b] = await Promise.all([
      postJson(`${url('A')}/api/events`, event),
      postJson(`${url('B')}/api/events`, event),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const outcomes = [a.data, b.data].map((d) => ({ enqueued: d.enqueued, duplicates: d.duplicates }));
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { enqueued: ['retailcrm'], duplicates: [] },
        { enqueued: [], duplicates: ['retailcrm'] },
      ]),
    );
    await expect.poll(() => uploadsOf(crm.fake.state.requests, 'mi.dup.1'), { timeout: 10_000 }).toBe(1);
    expect(callEventsOf('mi.dup.1', 'hangup')).toBe(1);
    // Late retry of the PBX to either instance: still nothing new.
    expect((await postJson(`${url('B')}/api/events`, event)).data.duplicates).toEqual(['retailcrm']);
    await new Promise((r) => setTimeout(r, 300));
    expect(uploadsOf(crm.fake.state.requests, 'mi.dup.1')).toBe(1);
    expect(callEventsOf('mi.dup.1', 'hangup')).toBe(1);
  });

  it('SIGKILL of the instance that is mid-delivery loses nothing: the other one completes it, the killed one restarts', async () => {
    dumpOnFailure();
    const held = crm.holdNext(/^\/telephony\/call\/event$/);
    expect((await postJson(`${url('A')}/api/events`, hangupEvent('mi.kill.1'))).status).toBe(202);
    const request = await held;
    const a = procs.A as ServerProcess;
    const b = procs.B as ServerProcess;
    // Whichever worker took the job is the one killed (Linux /proc tells which process holds the connection).
    const ownerPid = pidOwningConnection(request.remotePort, [a.pid, b.pid]);
    if (process.platform === 'linux') expect([a.pid, b.pid]).toContain(ownerPid);
    const victim = ownerPid === b.pid ? 'B' : 'A';
    const survivor = victim === 'A' ? 'B' : 'A';
    (procs[victim] as ServerProcess).kill('SIGKILL');
    expect(await (procs[victim] as ServerProcess).exited).toBe('SIGKILL');
    // The held request never reached the fake; the survivor's stalled-job check re-runs the job.
    expect(callEventsOf('mi.kill.1', 'hangup')).toBe(0);
    await expect.poll(() => uploadsOf(crm.fake.state.requests, 'mi.kill.1'), { timeout: 15_000 }).toBe(1);
    expect(callEventsOf('mi.kill.1', 'hangup')).toBe(1);
    const stats = (await (await fetch(`${url(survivor)}/stats`)).json()) as { delivery: { queue: string } };
    expect(stats.delivery.queue).toBe('redis');

    // The killed instance comes back on the same port and works again.
    await spawnAs(victim).ready();
    expect((await postJson(`${url(victim)}/api/events`, hangupEvent('mi.kill.2'))).status).toBe(202);
    await expect.poll(() => uploadsOf(crm.fake.state.requests, 'mi.kill.2'), { timeout: 10_000 }).toBe(1);
    expect(uploadsOf(crm.fake.state.requests, 'mi.kill.1')).toBe(1);
    expect(callEventsOf('mi.kill.1', 'hangup')).toBe(1);
  });

  it('a click-to-call command enqueued via A reaches the dialer long-polling B; the result is uploaded once', async () => {
    dumpOnFailure();
    await storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150' });
    expect((await postJson(`${url('A')}/api/register/0367`, {}, admin)).status).toBe(200);
    const saved = await postJson(`${url('A')}/api/save-extensions/0367`, { extensions: { '18': '150' } }, admin);
    expect(saved.status).toBe(200);
    const user = await postJson(
      `${url('A')}/api/phone-admin/users/0367`,
      { username: 'anna', password: 'anna-password-1', extension: '150' },
      admin,
    );
    expect(user.status).toBe(201);

    const onB = new PhoneClient({ baseUrl: url('B'), deviceId: 'anna-device-0001' });
    await onB.login('anna', 'anna-password-1');
    await onB.registerDevice();
    const poll = onB.pull({ waitSeconds: 10 });
    const heldOnB = async () =>
      ((await (await fetch(`${url('B')}/stats`)).json()) as { phone: { held_polls: number } }).phone.held_polls;
    await expect.poll(heldOnB, { timeout: 5000 }).toBe(1);

    // Exactly the makeCallUrl the registration gave RetailCRM (with its callback secret, if any), plus its params.
    const registered = (
      crm.fake.state.integrationModules.get('callbridge-telephony') as {
        integrations?: { telephony?: { makeCallUrl?: string } };
      }
    )?.integrations?.telephony?.makeCallUrl;
    const makeCall = new URL(registered ?? 'http://x/retailcrm/make-call');
    for (const [k, v] of Object.entries({ clientId: '0367', phone: '+79001234567', userId: '18' })) {
      makeCall.searchParams.set(k, v);
    }
    const made = await fetch(`${url('A')}${makeCall.pathname}${makeCall.search}`);
    const body = (await made.json()) as { via?: string; command_id: string };
    expect(made.status).toBe(200);
    expect(body.via).toBe('phone');
    const started = Date.now();
    expect(await poll).toMatchObject({ status: 'command', command: { id: body.command_id, phone: '+79001234567' } });
    expect(Date.now() - started).toBeLessThan(2000);

    // The result arrives through A (another balancer pick); RetailCRM gets one upload with externalId = command id.
    const onA = new PhoneClient({ baseUrl: url('A'), deviceId: 'anna-device-0001', tokens: onB.session });
    expect(
      await onA.sendCallResult({ callRequestId: body.command_id, status: 'connected', durationSeconds: 9 }),
    ).toEqual({ format: 'legacy', acknowledged: true });
    await expect.poll(() => uploadsOf(crm.fake.state.requests, body.command_id), { timeout: 10_000 }).toBe(1);
    expect(crm.fake.state.uploadedCalls.find((c) => c.externalId === body.command_id)).toMatchObject({
      result: 'answered',
      duration: 9,
      type: 'out',
    });
  });
});
