import { type ChildProcess, execFile, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { createTestDatabase, testEnv } from '../test/helpers.js';
import { allEvents, hangupEvent, postJson } from '../test/support/fixtures.js';
import { freePort } from '../test/support/net.js';
import { buildServerBundle, spawnServerProcess } from '../test/support/server-process.js';
import type { FakeCrmReport } from './fake-crm-process.js';
import { SERVER_NODE_ARGS } from './server-flags.js';

/**
 * Delivery bench, default mode (PGlite on disk, SQL outbox): the server runs as its own `node main.js` process;
 * every enterprise has its own fake RetailCRM (its own API key) on a loopback HTTP server, all in a second process
 * (`fake-crm-process.ts`, so the load generator here does not starve them), answering
 * after 20-50 ms and enforcing RetailCRM's per-key limits (sliding 1 s window, 40/s for `/telephony/*`, 503 above).
 * Each call is a dial, then its hangup 500 ms later (call event + history upload). Counts come from the fakes (what
 * arrived) and from the server's storage (integration-log statuses, dead letters).
 *
 * DELIVERY_BENCH_STORAGE=postgres runs the server on PostgreSQL. DELIVERY_BENCH_SECONDS (default 60) shortens the load, DELIVERY_BENCH_ENTERPRISES (default 100) the first scenario;
 * the second scenario is one enterprise at 18 calls/s.
 */
const seconds = Number(process.env.DELIVERY_BENCH_SECONDS ?? 60);
/**
 * `BENCH_CPU_PROF=<dir>`: the server writes a V8 CPU profile per thread there on exit (node --cpu-prof);
 * `BENCH_NODE_ARGS`: node flags of the server process (see `server-flags.ts`).
 */
const cpuProfDir = process.env.BENCH_CPU_PROF;
const HANGUP_AFTER_MS = 500;
/** DELIVERY_BENCH_STORAGE=postgres: the throw-away PostgreSQL of the test services instead of PGlite. */
const postgres = process.env.DELIVERY_BENCH_STORAGE === 'postgres' && Boolean(process.env.TEST_DATABASE_URL);
const DRAIN_LIMIT_MS = 5000;

const APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const fakeDir = join(APP_DIR, 'node_modules', '.cache', `cb-bench-fake-${process.pid}`);
let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
beforeAll(async () => {
  let tsup = APP_DIR;
  while (!existsSync(join(tsup, 'node_modules', '.bin', 'tsup'))) tsup = dirname(tsup);
  // The fakes get their own process (bundled like the server), so the load generator does not starve them.
  [bundle] = await Promise.all([
    buildServerBundle(),
    promisify(execFile)(
      join(tsup, 'node_modules', '.bin', 'tsup'),
      ['bench/fake-crm-process.ts', '--out-dir', fakeDir, '--silent', '--no-sourcemap'],
      { cwd: APP_DIR, timeout: 60_000 },
    ),
  ]);
});
afterAll(() => {
  bundle?.remove();
  rmSync(fakeDir, { recursive: true, force: true });
});

/** Starts the fake RetailCRMs' process; `report()` asks it what each fake received. */
async function startFakes(count: number) {
  const child: ChildProcess = fork(join(fakeDir, 'fake-crm-process.js'), [], {
    env: { PATH: process.env.PATH ?? '', FAKE_CRM_COUNT: String(count) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string } & T) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`fake RetailCRM process exited (${code})`)));
    });
  const { fakes } = await next<{ fakes: Array<{ url: string; apiKey: string }> }>('ready');
  return {
    fakes,
    async report() {
      const answer = next<{ report: FakeCrmReport[] }>('report');
      child.send({ type: 'report' });
      return (await answer).report;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

const dialEvent = (uid: string, pbxToken: string, enterprise: string) => ({
  enterprise_number: enterprise,
  event_type: 'dial',
  payload: { Token: pbxToken, UniqueId: uid, CallType: 0, Phone: '+79001234567', Extensions: ['150', '151'] },
});

interface Scenario {
  enterprises: number;
  callsPerSecond: number;
}

async function prepare(
  storageEnv: Record<string, string>,
  fakes: Array<{ url: string; apiKey: string }>,
  numbers: string[],
) {
  const setup = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', ...storageEnv }),
    logger: createLogger('silent'),
  });
  try {
    for (const [i, number] of numbers.entries()) {
      const fake = fakes[i] as { url: string; apiKey: string };
      await setup.storage.upsertEnterprise({ number, name: `Shop ${number}`, pbxToken: `pbx-${number}` });
      await setup.context.service.putConfig(number, {
        domain: fake.url,
        api_key: fake.apiKey,
        enabled: true,
        events: allEvents,
      });
    }
  } finally {
    await setup.close();
  }
}

/** What the server recorded: integration-log rows by operation and status, skip reasons, dead letters. */
async function serverCounts(storageEnv: Record<string, string>, trace: string[] = []) {
  const setup = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', ...storageEnv }),
    logger: createLogger('silent'),
  });
  try {
    const rows = await setup.storage.sql.query<{ operation: string; status: string; reason: string; n: number }>(
      `SELECT coalesce(request_data->>'operation', 'skipped') AS operation, status,
              CASE WHEN status IN ('skipped', 'error') THEN left(error_message, 60) ELSE '' END AS reason,
              count(*)::int AS n
         FROM integration_logs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    // The log rows of a few calls worth a look (a card shown twice), in order.
    const traced = trace.length
      ? await setup.storage.sql.query<Record<string, unknown>>(
          `SELECT call_unique_id, event_type, left(request_data::text, 160) AS request, status, created_at FROM integration_logs WHERE call_unique_id = ANY($1) ORDER BY call_unique_id, id`,
          [trace],
        )
      : [];
    return { logs: rows, deadLetters: await setup.storage.countDeadLetters(), traced };
  } finally {
    await setup.close();
  }
}

/** p50 / p99 / max of the intake's answer times, and the slowest answer per 10 s of the run (where a stall was). */
function intakeSummary(latencies: Array<{ at: number; ms: number }>): string {
  const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
  const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] ?? 0;
  const slices = new Map<number, number>();
  for (const l of latencies) {
    const slice = Math.floor(l.at / 10_000);
    slices.set(slice, Math.max(slices.get(slice) ?? 0, l.ms));
  }
  const worst = [...slices].map(([slice, ms]) => `${slice * 10}-${slice * 10 + 10} s: ${ms}`).join(', ');
  return `p50 ${q(0.5)}, p99 ${q(0.99)}, max ${q(1)}; slowest per 10 s: ${worst}`;
}

async function run({ enterprises, callsPerSecond }: Scenario) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-delivery-bench-'));
  const db = postgres ? await createTestDatabase(process.env.TEST_DATABASE_URL as string) : undefined;
  const storageEnv: Record<string, string> = db ? { DATABASE_URL: db.url } : { DATA_DIR: dataDir };
  const numbers = Array.from({ length: enterprises }, (_, i) => String(1000 + i));
  const crm = await startFakes(enterprises);
  const fakes = crm.fakes;
  const proc = { current: undefined as ReturnType<typeof spawnServerProcess> | undefined };
  try {
    await prepare(storageEnv, fakes, numbers);
    const server = spawnServerProcess(
      'delivery',
      bundle.mainJs,
      await freePort(),
      { ...testEnv, LOG_LEVEL: 'warn', ...storageEnv },
      [],
      [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), ...SERVER_NODE_ARGS],
    );
    proc.current = server;
    await server.ready(60_000);

    // Calls spread evenly over the run: call i of the whole load at i / (enterprises × rate) seconds.
    const total = Math.round(enterprises * callsPerSecond * seconds);
    const perMs = (enterprises * callsPerSecond) / 1000;
    const statuses = new Map<number, number>();
    const failures = new Map<string, number>(); // requests without an answer, by cause
    const accepted: Array<{ uid: string; at: number }> = [];
    const latencies: Array<{ at: number; ms: number }> = []; // intake answers: when posted (ms into the run), how long
    const post = async (body: unknown) => {
      const postedAt = Date.now();
      const r = await postJson(`${server.url}/api/events`, body).catch((error: unknown) => {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? String(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
        return { status: 0 };
      });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      latencies.push({ at: postedAt - startedAt, ms: Date.now() - postedAt });
      return r.status === 202;
    };
    const calls: Promise<void>[] = [];
    const startedAt = Date.now();
    let next = 0;
    while (next < total) {
      const due = Math.min(total, Math.floor((Date.now() - startedAt) * perMs) + 1);
      for (; next < due; next++) {
        const e = next % enterprises;
        const number = numbers[e] as string;
        const uid = `bench.${number}.${next}`;
        calls.push(
          (async () => {
            const dialed = await post(dialEvent(uid, `pbx-${number}`, number));
            await new Promise((r) => setTimeout(r, HANGUP_AFTER_MS));
            const hungUp = await post(hangupEvent(uid, `pbx-${number}`, number));
            if (dialed && hungUp) accepted.push({ uid, at: e });
          })(),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(calls);
    const loadEndedAt = Date.now();

    // Drained: every accepted call has its card, its hangup event and its history record at its RetailCRM.
    let received: FakeCrmReport[] = [];
    const missing = async () => {
      received = await crm.report();
      const arrived = received.map((f) => ({
        uploads: new Set(f.uploads),
        cards: new Set(f.cards),
        hangups: new Set(f.hangups),
      }));
      return accepted.filter(({ uid, at }) => {
        const f = arrived[at];
        return !(f?.uploads.has(uid) && f.cards.has(uid) && f.hangups.has(uid));
      });
    };
    let drainedAt: number | undefined;
    while (Date.now() - loadEndedAt < 60_000) {
      if ((await missing()).length === 0) {
        drainedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await server.stop(cpuProfDir ? 60_000 : 10_000);
    proc.current = undefined;

    const lost = (await missing()).length;
    const sum = (f: (r: FakeCrmReport) => number) => received.reduce((n, r) => n + f(r), 0);
    const uploadRequests = sum((r) => r.uploadRequests);
    const uploadedRecords = sum((r) => r.uploads.length);
    const cardCount = sum((r) => r.cards.length);
    const hangupCount = sum((r) => r.hangups.length);
    const over = sum((r) => r.rateLimited);
    // A card shown twice for one call (the manager's screen would ring twice).
    const twice = received.flatMap((f) => f.cards.filter((uid, i) => f.cards.indexOf(uid) !== i));
    const counts = await serverCounts(storageEnv, twice.slice(0, 3));
    const expired = counts.logs.filter((r) => r.reason === 'dial_expired').reduce((n, r) => n + r.n, 0);
    const drainMs = drainedAt === undefined ? undefined : drainedAt - loadEndedAt;
    console.log(
      [
        `delivery bench (${db ? 'PostgreSQL' : 'PGlite'}): ${enterprises} enterprise(s) x ${callsPerSecond} calls/s for ${seconds} s (${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)})`,
        `posted: ${total} calls; answers ${JSON.stringify(Object.fromEntries(statuses))}${failures.size ? ` (no answer: ${JSON.stringify(Object.fromEntries(failures))})` : ''}; calls with both events accepted: ${accepted.length}`,
        `fake RetailCRM: ${cardCount} cards, ${hangupCount} hangup events, ${uploadedRecords} calls in ${uploadRequests} calls/upload requests (${(uploadedRecords / Math.max(1, uploadRequests)).toFixed(1)} per request), ${over} answered 503 (over the limit)`,
        `server: integration log ${counts.logs.map((r) => `${r.operation}/${r.status}${r.reason ? `(${r.reason})` : ''}=${r.n}`).join(', ')}; dead letters ${counts.deadLetters}`,
        `intake answer ms: ${intakeSummary(latencies)}`,
        `cards shown twice: ${twice.length}${counts.traced.length ? ` (first calls' log: ${JSON.stringify(counts.traced)})` : ''}`,
        `dials expired: ${expired}; missing at the end: ${lost}; backlog drained ${drainMs === undefined ? 'NOT within 60 s' : `${(drainMs / 1000).toFixed(1)} s`} after the load ended`,
      ].join('\n'),
    );
    return { expired, lost, drainMs, deadLetters: counts.deadLetters, accepted: accepted.length, total };
  } finally {
    await proc.current?.stop(5000);
    await crm.close();
    rmSync(dataDir, { recursive: true, force: true });
    await db?.drop();
  }
}

for (const scenario of [
  { enterprises: Number(process.env.DELIVERY_BENCH_ENTERPRISES ?? 100), callsPerSecond: 2 },
  { enterprises: 1, callsPerSecond: 18 },
]) {
  it(`delivery: ${scenario.enterprises} enterprise(s) x ${scenario.callsPerSecond} calls/s: none expired, none lost, drained within 5 s`, async () => {
    const result = await run(scenario);
    expect(result.accepted).toBe(result.total);
    expect(result.expired).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.deadLetters).toBe(0);
    expect(result.drainMs).toBeLessThanOrEqual(DRAIN_LIMIT_MS);
  });
}
