import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { testEnv } from './helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { fastDeliveryEnv, hangupEvent, postJson } from './support/fixtures.js';
import { freePort } from './support/net.js';
import { prepareStorage } from './support/prepare.js';
import { buildServerBundle, type ServerProcess, spawnServerProcess } from './support/server-process.js';

const N = 240;

/**
 * The default mode (PGlite on disk, no Redis): every event answered 202 is in the outbox before the answer, so a
 * SIGKILL right after the last answer loses nothing, and the restarted process delivers each call exactly once
 * (RetailCRM keeps one call per externalId; a delivery cut mid-flight is re-sent, never dropped).
 */
describe('SIGKILL after 202 in the default mode (PGlite on disk)', () => {
  let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
  let crm: FakeCrmServer;
  let dataDir: string;
  let port: number;
  const procs: ServerProcess[] = [];

  beforeAll(async () => {
    [bundle, crm, port] = await Promise.all([buildServerBundle(), startFakeCrmServer(), freePort()]);
    dataDir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
    await prepareStorage({ DATA_DIR: dataDir }, { url: crm.url, apiKey: crm.fake.apiKey });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await crm?.close();
    bundle?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${N} events answered 202, SIGKILL, restart: every call delivered exactly once`, async () => {
    onTestFailed(() => {
      for (const p of procs) console.error(`--- ${p.name} ---\n${p.output().slice(-4000)}`);
    });
    const env = { ...testEnv, ...fastDeliveryEnv, LOG_LEVEL: 'warn', DATA_DIR: dataDir };
    const first = spawnServerProcess('first', bundle.mainJs, port, env);
    procs.push(first);
    await first.ready(30_000);

    const ids = Array.from({ length: N }, (_, i) => `crash.${Date.now()}.${i}`);
    // 24 PBX connections at once: enough concurrency for group commit, deliveries running at the kill.
    for (let i = 0; i < N; i += 24) {
      const answers = await Promise.all(
        ids.slice(i, i + 24).map((id) => postJson(`${first.url}/api/events`, hangupEvent(id))),
      );
      for (const a of answers) expect(a.status).toBe(202);
    }
    first.kill('SIGKILL');
    await first.exited;
    const deliveredBeforeKill = new Set(crm.fake.state.uploadedCalls.map((c) => c.externalId)).size;

    const second = spawnServerProcess('second', bundle.mainJs, port, env);
    procs.push(second);
    await second.ready(30_000);
    const uploaded = () => {
      const counts = new Map<string, number>();
      for (const c of crm.fake.state.uploadedCalls)
        counts.set(String(c.externalId), (counts.get(String(c.externalId)) ?? 0) + 1);
      return counts;
    };
    await expect.poll(() => ids.filter((id) => uploaded().has(id)).length, { timeout: 60_000, interval: 200 }).toBe(N);
    const counts = uploaded();
    for (const id of ids) expect(counts.get(id)).toBe(1);
    // Not a vacuous test: the kill landed while deliveries were still pending.
    expect(deliveredBeforeKill).toBeLessThan(N);
  }, 150_000);
});
