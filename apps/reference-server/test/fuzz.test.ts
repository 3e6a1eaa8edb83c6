import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@callbridge/phone-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrashGuard } from '../src/crash-guard.js';
import { DEMO_ENTERPRISE, DEMO_PBX_TOKEN, DEMO_PHONE_USER } from '../src/demo.js';
import { createLogger } from '../src/logger.js';
import type { RunningServer } from '../src/server.js';
import { testEnv } from './helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import {
  casesFor,
  type FuzzCredentials,
  type FuzzRequest,
  hasCode,
  type Operation,
  operationsOf,
  prng,
  send,
} from './support/fuzz.js';
import { HARDENED_INTERNAL_TOKEN, HARDENED_PUBLIC_KEY, startHardenedServer } from './support/hardened-server.js';
import { freePort } from './support/net.js';
import { buildServerBundle, type ServerProcess, spawnServerProcess } from './support/server-process.js';

/**
 * Fuzz suite: walks `/openapi.json` (every operation, every parameter location) with hostile input and asserts
 * no 500, the process alive and `/health` answering after every case, a code in every 4xx, and no credential
 * check skipped (a secured operation never answers 2xx/3xx without credentials).
 *
 * `pnpm test` runs a small deterministic sample in-process (escaped errors are caught by the crash guard and
 * counted). `pnpm --filter @callbridge/reference-server bench` (FUZZ_PROCESS=1) runs many more cases per operation
 * against the built server in its own process, seeded by `--demo`. Knobs: FUZZ_CASES (authenticated cases per
 * operation), FUZZ_SEED.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 1);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const AS_PROCESS = process.env.FUZZ_PROCESS === '1';
const PUBLIC_KEY = HARDENED_PUBLIC_KEY;
const INTERNAL = HARDENED_INTERNAL_TOKEN;
const PHONE_PASSWORD = DEMO_PHONE_USER.password;

interface Target {
  url: string;
  /** Undefined while the server is up; the reason once it is gone or an error escaped a request. */
  failure(): string | undefined;
  close(): Promise<void>;
}

async function inProcessTarget(): Promise<Target & { crm: FakeCrmServer }> {
  const crm = await startFakeCrmServer();
  const srv: RunningServer = await startHardenedServer({
    // Long-polls answer at once: a hostile wait_seconds must not hold the suite.
    phone: { pull: { defaultWaitSeconds: 0, maxWaitSeconds: 0, rateLimit: false } },
  });
  const escaped: string[] = [];
  const uninstall = installCrashGuard(createLogger('silent'), (kind) => escaped.push(kind));
  await srv.storage.upsertEnterprise({ number: DEMO_ENTERPRISE, name: 'Fuzz', pbxToken: DEMO_PBX_TOKEN });
  await srv.context.service.putConfig(DEMO_ENTERPRISE, {
    domain: crm.url,
    api_key: crm.fake.apiKey,
    enabled: true,
    events: { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: true },
  });
  const user = await createUser(srv.phone.users, {
    id: randomUUID(),
    username: DEMO_PHONE_USER.username,
    password: PHONE_PASSWORD,
  });
  await srv.phone.users.assign(user.id, DEMO_ENTERPRISE, null);
  return {
    url: srv.url,
    crm,
    failure: () => (escaped.length > 0 ? `errors escaped every handler: ${escaped.join(', ')}` : undefined),
    async close() {
      uninstall();
      await srv.close();
      await crm.close();
    },
  };
}

async function processTarget(): Promise<Target> {
  const bundle = await buildServerBundle();
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-fuzz-'));
  // --demo: the enterprise, PBX token and phone user the fuzzer authenticates with.
  const server: ServerProcess = spawnServerProcess(
    'fuzz',
    bundle.mainJs,
    await freePort(),
    { ...testEnv, DATA_DIR: dataDir, PUBLIC_KEY, WA_WEB_TOKEN: INTERNAL, SHUTDOWN_TIMEOUT_MS: '200' },
    ['--demo'],
  );
  await server.ready(120_000);
  // The demo seeds after /health answers: wait for its phone user (not by logging in: failures are throttled).
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${server.url}/api/phone-admin/users/${DEMO_ENTERPRISE}`, {
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
    });
    if (r.status === 200 && JSON.stringify(await r.json()).includes(DEMO_PHONE_USER.username)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: server.url,
    failure: () => (server.child.exitCode !== null || server.child.signalCode !== null ? 'process exited' : undefined),
    async close() {
      await server.stop();
      bundle.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('fuzz: every operation of /openapi.json with hostile input', () => {
  let target: Target;
  let operations: Operation[];
  let credentials: (op: Operation) => FuzzCredentials;
  const stats = { cases: 0, byStatus: new Map<number, number>() };

  beforeAll(async () => {
    target = AS_PROCESS ? await processTarget() : await inProcessTarget();
    const doc = (await (await fetch(`${target.url}/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
    operations = operationsOf(doc);
    const login = await fetch(`${target.url}/api/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: DEMO_PHONE_USER.username, password: PHONE_PASSWORD }),
    });
    const phoneAccess = ((await login.json()) as { access: string }).access;
    const adminHeaders = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };
    const provider = await fetch(`${target.url}/admin/provider-token/1`, { headers: adminHeaders });
    const providerToken = ((await provider.json()) as { provider_token: string }).provider_token;
    credentials = (op) => ({
      headers: {
        authorization: `Bearer ${op.security.includes('phoneJwt') ? phoneAccess : testEnv.ADMIN_TOKEN}`,
        'x-admin-token': testEnv.ADMIN_TOKEN,
        'x-pbx-token': DEMO_PBX_TOKEN,
        'x-auth-token': INTERNAL,
        'x-provider-token': providerToken,
      },
      query: op.security.includes('providerToken')
        ? ({ token: providerToken } as Record<string, string>)
        : { k: PUBLIC_KEY },
    });
  }, 300_000);

  afterAll(async () => {
    await target?.close();
    const summary = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
    console.info(`fuzz: ${stats.cases} cases over ${operations?.length ?? 0} operations (seed ${SEED}) ${summary}`);
  });

  const values = {
    enterpriseNumber: DEMO_ENTERPRISE,
    tenant: '1',
    jobId: 'job-1',
    job_id: 'job-1',
    deviceId: 'fuzz-device',
    device_id: 'fuzz-device',
    wait_seconds: '0',
    qr_id: 'q1',
    limit: '5',
  };

  async function check(op: Operation, req: FuzzRequest, authenticated: boolean) {
    const where = `${req.method} ${req.path.slice(0, 120)} [${req.label}${authenticated ? '' : ', no credentials'}]`;
    const res = await send(target.url, req);
    stats.cases += 1;
    stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
    expect(target.failure(), where).toBeUndefined();
    const health = await send(target.url, { method: 'GET', path: '/health', headers: {}, label: 'health' });
    expect(health.status, `${where}: /health after the case`).toBe(200);
    // A held long-poll is the one request allowed to take its time.
    if (res.timedOut) {
      expect(op.path, `${where}: no answer in time`).toMatch(/calls\/pull/);
      return;
    }
    expect(res.status, `${where} -> ${res.status} ${res.body.slice(0, 200)}`).not.toBe(500);
    if (res.status >= 500) {
      // Only a dependency's answer (a worker or RetailCRM unreachable), with its code; never a crash.
      expect([502, 503], `${where} -> ${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
      expect(hasCode(res.json) || Boolean(res.errorCode), `${where}: ${res.body.slice(0, 200)}`).toBe(true);
    }
    if (res.status >= 400 && res.status < 500) {
      const coded = hasCode(res.json) || Boolean(res.errorCode);
      expect(coded, `${where} -> ${res.status} without a code: ${res.body.slice(0, 200)}`).toBe(true);
    }
    if (!authenticated && op.security.length > 0) {
      expect(res.status, `${where}: answered without credentials`).toBeGreaterThanOrEqual(400);
    }
  }

  it('finds every operation, including the phone and messenger routes', () => {
    const keys = operations.map((o) => `${o.method} ${o.path}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /api/events',
        'POST /pub/catalog/upload',
        'POST /api/token/refresh/',
        'DELETE /api/phone-admin/devices/{enterpriseNumber}/{deviceId}',
      ]),
    );
  });

  it('no 500, no crash, a code in every 4xx, no credential check skipped', async () => {
    const rand = prng(SEED);
    for (const op of operations) {
      const cred = credentials(op);
      for (const req of casesFor(op, CASES, rand, { credentials: cred, values, authenticated: true })) {
        await check(op, req, true);
      }
      if (op.security.length > 0) {
        for (const req of casesFor(op, 1, rand, { credentials: cred, values, authenticated: false })) {
          await check(op, req, false);
        }
      }
    }
    expect(stats.cases).toBeGreaterThan(operations.length);
  }, 600_000);
});
