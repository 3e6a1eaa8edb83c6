import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { crashAndRecover } from '../test/support/crash-run.js';
import { type FakeCrmServer, startFakeCrmServer } from '../test/support/fake-crm-server.js';
import { freePort } from '../test/support/net.js';
import { prepareStorage } from '../test/support/prepare.js';
import { buildServerBundle } from '../test/support/server-process.js';

/**
 * Crash bench, default mode (PGlite on disk): CRASH_EVENTS hangups (default 1,000) posted by 32 connections, SIGKILL
 * after a random number of 202 answers, restart on the same data: every event answered 202 must reach RetailCRM once.
 */
const n = Number(process.env.CRASH_EVENTS ?? 1000);
let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
let crm: FakeCrmServer;
const dataDir = mkdtempSync(join(tmpdir(), 'cb-crash-bench-'));

beforeAll(async () => {
  [bundle, crm] = await Promise.all([buildServerBundle(), startFakeCrmServer()]);
  await prepareStorage({ DATA_DIR: dataDir }, { url: crm.url, apiKey: crm.fake.apiKey });
});
afterAll(async () => {
  await crm?.close();
  bundle?.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

it(`crash: ${n} events, SIGKILL at a random point, restart: every 202 delivered exactly once`, async () => {
  const killAfter = 1 + Math.floor(Math.random() * n);
  const run = await crashAndRecover({
    mainJs: bundle.mainJs,
    crm,
    dataDir,
    port: await freePort(),
    n,
    concurrency: 32,
    killAfter,
    timeoutMs: 300_000,
  });
  await Promise.all(run.procs.map((p) => p.stop()));
  const missing = run.accepted.filter((id) => run.stored.get(id) !== 1);
  console.log(
    [
      `crash bench: ${n} events offered, SIGKILL after ${killAfter} answers (load average ${loadavg()[0]?.toFixed(1)})`,
      `accepted (202): ${run.accepted.length}; unanswered at the kill (PBX retries): ${run.unanswered.length}`,
      `delivered before the kill: ${run.deliveredBeforeKill}; after restart, in RetailCRM exactly once: ${run.accepted.length - missing.length}/${run.accepted.length}`,
      `uploads re-sent (cut mid-flight): ${run.resentUploads}; recovery: ${(run.recoveryMs / 1000).toFixed(1)} s`,
    ].join('\n'),
  );
  expect(missing).toEqual([]);
});
