import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { crashAndRecover } from './support/crash-run.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { freePort } from './support/net.js';
import { prepareStorage } from './support/prepare.js';
import { buildServerBundle, type ServerProcess } from './support/server-process.js';

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
    const run = await crashAndRecover({
      mainJs: bundle.mainJs,
      crm,
      dataDir,
      port,
      n: N,
      concurrency: 24, // enough for group commit; deliveries are still running at the kill
      timeoutMs: 90_000,
    });
    procs.push(...run.procs);
    expect(run.accepted).toHaveLength(N);
    for (const id of run.accepted) expect(run.stored.get(id), id).toBe(1);
    // Not a vacuous test: the kill landed while deliveries were still pending.
    expect(run.deliveredBeforeKill).toBeLessThan(N);
    // Only deliveries cut mid-flight are sent again (at most the jobs running at once), never the whole backlog.
    expect(run.resentUploads).toBeLessThanOrEqual(64);
  }, 150_000);
});
