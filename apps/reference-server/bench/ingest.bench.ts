import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, testEnv } from '../test/helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from '../test/support/fake-crm-server.js';
import { fastDeliveryEnv, hangupEvent } from '../test/support/fixtures.js';
import { freePort } from '../test/support/net.js';
import { prepareStorage } from '../test/support/prepare.js';
import { buildServerBundle, spawnServerProcess } from '../test/support/server-process.js';
import { startPeer } from './peers.js';
import { cpuBetween, threadCpuMs } from './process-cpu.js';
import { SERVER_NODE_ARGS } from './server-flags.js';

/**
 * Ingest side by side, one run: raw node:http (JSON parse + 202), bare Express + express.json, and the reference
 * server (every 202 committed to the outbox first) on PGlite (default) and PostgreSQL. autocannon, 50 connections,
 * BENCH_SECONDS each (default 5); every request a distinct hangup (unique UniqueId), so nothing is a duplicate.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = 50;
/**
 * `BENCH_ONLY=raw,pglite` runs a subset (raw, express, pglite, pglite-main, postgres); ratios need `raw` in the same
 * run. `pglite-main` is the same bundle without its PGlite worker script: PGlite on the HTTP event loop.
 */
const only = new Set(
  (process.env.BENCH_ONLY ?? 'raw,express,pglite,pglite-main,postgres').split(',').map((s) => s.trim()),
);
/** `BENCH_CPU_PROF=<dir>`: the server processes write a V8 CPU profile there on exit (node --cpu-prof). */
const cpuProfDir = process.env.BENCH_CPU_PROF;
let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
let crm: FakeCrmServer;
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'cb-ingest-'));
const rows: Array<{
  name: string;
  rps: number;
  p99: number;
  non2xx: number;
  accepted: number;
  /** Server CPU per answered request (all threads), and of its busiest thread, in microseconds. */
  cpuUs: number;
  busiestUs: number;
}> = [];

beforeAll(async () => {
  [bundle, crm] = await Promise.all([buildServerBundle(), startFakeCrmServer()]);
});
afterAll(async () => {
  await crm?.close();
  await db?.drop();
  bundle?.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
async function load(name: string, url: string, pid: number) {
  const run = `${Date.now()}`;
  const cpuBefore = threadCpuMs(pid);
  const result = await autocannon({
    url: `${url}/api/events`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-pbx-token': 'pbx-0367' },
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => ({ ...req, body: JSON.stringify(hangupEvent(`bench.${run}.${seq++}`)) }),
      },
    ],
  });
  const cpu = cpuBetween(cpuBefore, threadCpuMs(pid));
  const accepted = result.statusCodeStats?.['202']?.count ?? 0;
  const answered = Math.max(1, result.requests.total);
  rows.push({
    name,
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    accepted,
    cpuUs: (1000 * cpu.totalMs) / answered,
    busiestUs: (1000 * cpu.busiestMs) / answered,
  });
  return accepted;
}

/** A PostgreSQL setting as the server reports it (`SHOW`). */
async function pgSetting(url: string, name: 'fsync' | 'synchronous_commit'): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return String((await client.query(`SHOW ${name}`)).rows[0]?.[name]);
  } finally {
    await client.end();
  }
}

async function server(name: string, env: Record<string, string>, mainJs = bundle.mainJs) {
  await prepareStorage(env, { url: crm.url, apiKey: crm.fake.apiKey });
  const proc = spawnServerProcess(
    name,
    mainJs,
    await freePort(),
    {
      ...testEnv,
      ...fastDeliveryEnv,
      LOG_LEVEL: 'warn',
      ...(process.env.SQL_PROF ? { SQL_PROF: '1' } : {}),
      ...env,
    },
    [],
    [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), ...SERVER_NODE_ARGS],
  );
  await proc.ready(60_000);
  try {
    return await load(name, proc.url, proc.pid);
  } finally {
    // A profiled server writes its profile on a clean exit: give the graceful shutdown time to finish.
    await proc.stop(cpuProfDir ? 60_000 : undefined);
    if (process.env.SQL_PROF)
      console.log(
        proc
          .output()
          .split('\n')
          .filter((l) => l.startsWith('SQLPROF'))
          .join('\n'),
      );
  }
}

it('ingest: raw node:http vs bare Express vs durable reference server (PGlite, PostgreSQL)', async () => {
  for (const peer of (['raw', 'express'] as const).filter((p) => only.has(p))) {
    const p = await startPeer(peer, await freePort());
    try {
      await load(peer === 'raw' ? 'raw node:http (parse + 202)' : 'bare Express 5 + express.json', p.url, p.pid);
    } finally {
      await p.stop();
    }
  }
  if (only.has('pglite')) await server('reference server, PGlite (default)', { DATA_DIR: join(dataDir, 'worker') });
  if (only.has('pglite-main')) {
    // The same bundle without its worker script (next to it, so bare imports resolve): PGlite on the main thread.
    const copy = `${dirname(bundle.mainJs)}-main-thread`;
    cpSync(dirname(bundle.mainJs), copy, { recursive: true });
    rmSync(join(copy, 'pglite-worker.js'));
    try {
      await server(
        'reference server, PGlite on the main thread',
        { DATA_DIR: join(dataDir, 'main') },
        join(copy, 'main.js'),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  if (only.has('postgres') && process.env.TEST_DATABASE_URL) {
    db = await createTestDatabase(process.env.TEST_DATABASE_URL);
    const fsync = await pgSetting(db.url, 'fsync');
    const accepted = await server(`reference server, PostgreSQL (fsync ${fsync})`, { DATABASE_URL: db.url });
    // Durable before 202: every accepted event has its outbox row.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const stored = await client.query('SELECT count(*)::int AS n FROM delivery_outbox');
    await client.end();
    expect(stored.rows[0].n).toBeGreaterThanOrEqual(accepted);
  }
  const rawRow = rows.find((r) => r.name.startsWith('raw'));
  const raw = rawRow?.rps ?? Number.NaN;
  const table = [
    `ingest, autocannon -c ${connections} -d ${seconds}, ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
    '| | req/s | p99 ms | vs raw | non-2xx | CPU µs/req (busiest thread) | vs raw by busiest-thread CPU |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${Math.round(r.rps)} | ${r.p99} | ${(r.rps / raw).toFixed(2)} | ${r.non2xx} | ` +
        `${Math.round(r.cpuUs)} (${Math.round(r.busiestUs)}) | ${((rawRow?.busiestUs ?? Number.NaN) / r.busiestUs).toFixed(2)} |`,
    ),
  ].join('\n');
  console.log(table);
  expect(rows.every((r) => r.accepted > 0)).toBe(true);
});
