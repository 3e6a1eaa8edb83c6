import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Ingest side by side, one run: raw node:http (JSON parse + 202), bare Express + express.json, and the reference
 * server (every 202 committed to the outbox first) on PGlite (default) and PostgreSQL. autocannon, 50 connections,
 * BENCH_SECONDS each (default 5); every request a distinct hangup (unique UniqueId), so nothing is a duplicate.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = 50;
let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
let crm: FakeCrmServer;
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'cb-ingest-'));
const rows: Array<{ name: string; rps: number; p99: number; non2xx: number; accepted: number }> = [];

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
async function load(name: string, url: string) {
  const run = `${Date.now()}`;
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
  const accepted = result.statusCodeStats?.['202']?.count ?? 0;
  rows.push({ name, rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, accepted });
  return accepted;
}

async function server(name: string, env: Record<string, string>) {
  await prepareStorage(env, { url: crm.url, apiKey: crm.fake.apiKey });
  const proc = spawnServerProcess(name, bundle.mainJs, await freePort(), {
    ...testEnv,
    ...fastDeliveryEnv,
    LOG_LEVEL: 'warn',
    ...env,
  });
  await proc.ready(60_000);
  try {
    return await load(name, proc.url);
  } finally {
    await proc.stop();
  }
}

it('ingest: raw node:http vs bare Express vs durable reference server (PGlite, PostgreSQL)', async () => {
  for (const peer of ['raw', 'express'] as const) {
    const p = await startPeer(peer, await freePort());
    try {
      await load(peer === 'raw' ? 'raw node:http (parse + 202)' : 'bare Express 5 + express.json', p.url);
    } finally {
      await p.stop();
    }
  }
  await server('reference server, PGlite (default)', { DATA_DIR: dataDir });
  if (process.env.TEST_DATABASE_URL) {
    db = await createTestDatabase(process.env.TEST_DATABASE_URL);
    const accepted = await server('reference server, PostgreSQL', { DATABASE_URL: db.url });
    // Durable before 202: every accepted event has its outbox row.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const stored = await client.query('SELECT count(*)::int AS n FROM delivery_outbox');
    await client.end();
    expect(stored.rows[0].n).toBeGreaterThanOrEqual(accepted);
  }
  const raw = rows[0]?.rps ?? 1;
  const table = [
    `ingest, autocannon -c ${connections} -d ${seconds}, ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
    '| | req/s | p99 ms | vs raw | non-2xx |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p99} | ${(r.rps / raw).toFixed(2)} | ${r.non2xx} |`),
  ].join('\n');
  console.log(table);
  expect(rows.every((r) => r.accepted > 0)).toBe(true);
});
