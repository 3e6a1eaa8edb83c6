/**
 * `pnpm bench`: the client in one process, the fake RetailCRM as a real HTTP server in another; the server
 * stamps every arrival. Reports the most requests the server saw in any 1 s window (must be <= the limit) and
 * the utilisation of the allowed rate (accepted requests per second / limit; goal >= 95 %). Scenarios: one
 * client at 10 rps (`GET /users/{id}`), one at 40 rps (`/telephony/call/event`), three client processes sharing
 * one key through Redis, and the 0.1.0 sliding-window limiter as the peer.
 *
 * Env: BENCH_CALLS (default 1000 per scenario), BENCH_PEER_CALLS (default 300), BENCH (comma-separated scenario
 * ids, default all: pacing-10, pacing-40, redis-10, redis-40, pacing-only-40, sliding-10, sliding-40).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { maxInAnyWindow } from '../src/testing/windows.js';

const here = __dirname;
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const PEER_CALLS = Number(process.env.BENCH_PEER_CALLS ?? 300);
const WINDOW_MS = 1000;
const ONLY = process.env.BENCH?.split(',')
  .map((id) => id.trim())
  .filter(Boolean);

type Arrival = [at: number, status: number, telephony: 0 | 1];
interface Scenario {
  /** What `BENCH` selects. */
  id: string;
  name: string;
  limit: number;
  endpoint: 'users' | 'callEvent';
  limiter: 'pacing' | 'sliding' | 'redis' | 'pacing-only';
  processes: number;
  calls: number;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before "${type}"`)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A throw-away redis-server on a free loopback port, no persistence. */
async function startRedis(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections are expected until redis-server listens; without a listener ioredis prints each one.
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (attempt > 50) throw new Error('redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, stop: () => child.kill('SIGTERM') };
}

async function run(
  server: ChildProcess,
  target: { url: string; apiKey: string },
  scenario: Scenario,
  redisUrl?: string,
) {
  console.error(`running: ${scenario.name} at ${scenario.limit} rps, ${scenario.calls} calls`);
  server.send({ type: 'reset' });
  await nextMessage(server, 'reset');
  const perProcess = Math.ceil(scenario.calls / scenario.processes);
  const clients = Array.from({ length: scenario.processes }, (_, index) =>
    fork(join(here, 'client.cjs'), [
      JSON.stringify({
        ...target,
        calls: Math.min(perProcess, scenario.calls - index * perProcess),
        endpoint: scenario.endpoint,
        limiter: scenario.limiter,
        redisUrl,
      }),
    ]),
  );
  // Let every client load before the common start.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const done = clients.map((child) => nextMessage<{ failed: number }>(child, 'done'));
  for (const child of clients) child.send({ type: 'go' });
  const failed = (await Promise.all(done)).reduce((sum, result) => sum + result.failed, 0);
  server.send({ type: 'report' });
  const { arrivals } = await nextMessage<{ arrivals: Arrival[] }>(server, 'report');
  const bucket = arrivals.filter(([, , telephony]) => telephony === (scenario.endpoint === 'callEvent' ? 1 : 0));
  const accepted = bucket.filter(([, status]) => status < 300).map(([at]) => at);
  const span = Math.max(...accepted) - Math.min(...accepted);
  const rate = ((accepted.length - 1) / span) * 1000;
  return {
    ...scenario,
    arrivals: bucket.length,
    rejected: bucket.filter(([, status]) => status === 503).length,
    failed,
    maxWindow: maxInAnyWindow(
      bucket.map(([at]) => at),
      WINDOW_MS,
    ),
    rate,
    utilisation: rate / scenario.limit,
    seconds: span / 1000,
  };
}

const SCENARIOS: Scenario[] = [
  {
    id: 'pacing-10',
    name: 'pacing, 1 process',
    limit: 10,
    endpoint: 'users',
    limiter: 'pacing',
    processes: 1,
    calls: CALLS,
  },
  {
    id: 'pacing-40',
    name: 'pacing, 1 process',
    limit: 40,
    endpoint: 'callEvent',
    limiter: 'pacing',
    processes: 1,
    calls: CALLS,
  },
  {
    id: 'redis-10',
    name: 'Redis pacing, 3 processes, one key',
    limit: 10,
    endpoint: 'users',
    limiter: 'redis',
    processes: 3,
    calls: CALLS,
  },
  {
    id: 'redis-40',
    name: 'Redis pacing, 3 processes, one key',
    limit: 40,
    endpoint: 'callEvent',
    limiter: 'redis',
    processes: 3,
    calls: CALLS,
  },
  {
    id: 'pacing-only-40',
    name: 'variant: pacing without the answer guard',
    limit: 40,
    endpoint: 'callEvent',
    limiter: 'pacing-only',
    processes: 1,
    calls: CALLS,
  },
  {
    id: 'sliding-10',
    name: 'peer: 0.1.0 sliding window',
    limit: 10,
    endpoint: 'users',
    limiter: 'sliding',
    processes: 1,
    calls: PEER_CALLS,
  },
  {
    id: 'sliding-40',
    name: 'peer: 0.1.0 sliding window',
    limit: 40,
    endpoint: 'callEvent',
    limiter: 'sliding',
    processes: 1,
    calls: PEER_CALLS,
  },
];

async function main() {
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  const server = fork(join(here, 'server.cjs'));
  const target = await nextMessage<{ url: string; apiKey: string }>(server, 'ready');
  const results = [];
  let redis: { url: string; stop(): void } | undefined;
  try {
    const unknown = ONLY?.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id)) ?? [];
    if (unknown.length) {
      throw new Error(`unknown BENCH scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
    }
    const selected = SCENARIOS.filter((scenario) => !ONLY || ONLY.includes(scenario.id));
    for (const scenario of selected) {
      if (scenario.limiter === 'redis') redis ??= await startRedis();
      results.push(await run(server, target, scenario, scenario.limiter === 'redis' ? redis?.url : undefined));
    }
  } finally {
    redis?.stop();
    server.send({ type: 'stop' });
  }

  const cpu = cpus();
  console.log(
    `\nmachine: ${cpu.length} cores (${cpu[0]?.model.trim()}), Node ${process.version}, load avg before: ${load}`,
  );
  console.log(
    '\n| scenario | limit (rps) | calls | max in any 1 s at the server | 503s | failed calls | rate (rps) | utilisation | duration (s) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.limit} | ${r.calls} | ${r.maxWindow} | ${r.rejected} | ${r.failed} | ${r.rate.toFixed(2)} | ${(r.utilisation * 100).toFixed(1)} % | ${r.seconds.toFixed(1)} |`,
    );
  }
  const ours = results.filter((r) => r.limiter === 'pacing' || r.limiter === 'redis');
  const ok = ours.every((r) => r.maxWindow <= r.limit && r.utilisation >= 0.95 && r.failed === 0);
  console.log(
    ok
      ? '\nOK: every pacing scenario <= limit in every 1 s window, >= 95 % utilisation, no failed call'
      : '\nGOAL MISSED',
  );
  process.exitCode = ok ? 0 : 1;
}

void main();
