/**
 * Holds 5,000 concurrent long-polls on one server process (a child process, loopback) and reports
 * server memory per held poll and enqueue -> device latency (p50/p99), for the in-process command bus and,
 * when redis-server is on PATH (or BENCH_REDIS_URL is set), for the Redis command bus in the same run.
 *
 *   pnpm --filter @callbridge/phone-protocol bench          (DEVICES=5000 by default)
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { percentile } from '../src/sim/stats.js';

const DEVICES = Number(process.env.DEVICES ?? 5000);
const PACED = Math.min(2000, Math.floor(DEVICES * 0.4));
const HARD_LIMIT_MS = 58_000;
const here = __dirname;

interface Ready {
  port: number;
  token: string;
}
interface Mem {
  heldPolls: number;
  heapUsed: number;
  rss: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ask<T>(child: ChildProcess, message: object, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== reply) return;
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function runScenario(name: string, env: Record<string, string>) {
  const child = fork(join(here, 'server.cjs'), [], {
    execArgv: ['--expose-gc', '--max-old-space-size=1024'],
    env: { ...process.env, ...env },
  });
  const ready = await new Promise<Ready>((resolve) => child.once('message', (m) => resolve(m as Ready)));
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const received = new Map<string, number>();
  let failures = 0;
  const errorCodes = new Map<string, number>();

  const poll = (device: number, wait: number): Promise<{ status: number; body: string }> =>
    new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ready.port,
          path: `/api/phone/calls/pull/?device_id=d${device}&wait_seconds=${wait}`,
          agent,
          headers: { authorization: `Bearer ${ready.token}` },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        failures += 1;
        const code = err.code ?? err.message;
        errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
        resolve({ status: 0, body: '' });
      });
      req.end();
    });

  // Each device keeps one long-poll open; on a command it records the arrival time and polls again.
  let holding = true;
  const loop = async (device: number) => {
    while (holding) {
      const res = await poll(device, 30);
      if (res.status === 200) received.set((JSON.parse(res.body) as { id: string }).id, performance.now());
      if (res.status === 0) await new Promise((r) => setTimeout(r, 100));
    }
  };

  // Warm-up: one immediate poll per device registers it and opens its keep-alive connection.
  for (let i = 0; i < DEVICES; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, DEVICES - i) }, (_, k) => poll(i + k, 0)));
  }
  const idle = await ask<Mem>(child, { type: 'mem' }, 'mem');
  console.error(`${name}: ${DEVICES} devices registered and connected`);
  const holdStarted = performance.now();
  for (let i = 0; i < DEVICES; i++) void loop(i);
  // Cheap polling of the held count; the GC-heavy memory snapshot is taken once, after all polls are held.
  let heldPolls = 0;
  while (heldPolls < DEVICES && performance.now() - holdStarted < 20_000) {
    await new Promise((r) => setTimeout(r, 50));
    heldPolls = (await ask<{ heldPolls: number }>(child, { type: 'stats' }, 'stats')).heldPolls;
  }
  const holdMs = performance.now() - holdStarted;
  const held = await ask<Mem>(child, { type: 'mem' }, 'mem');
  console.error(`${name}: ${held.heldPolls} polls held`);

  const sent = new Map<string, number>();
  const enqueue = (device: number, id: string) => {
    sent.set(id, performance.now());
    child.send({ type: 'enqueue', deviceId: `d${device}`, id });
  };
  // Paced: one command every 2 ms to distinct held devices.
  for (let i = 0; i < PACED; i++) {
    enqueue(i, `p${i}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  // Burst: one command to every other held device at once.
  for (let i = PACED; i < DEVICES; i++) enqueue(i, `b${i}`);
  const deadline = performance.now() + 15_000;
  while (received.size < sent.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const latency = (prefix: string) =>
    [...sent].filter(([id]) => id.startsWith(prefix) && received.has(id)).map(([id, t]) => received.get(id)! - t);
  const paced = latency('p');
  const burst = latency('b');
  const failuresBeforeStop = failures;
  const codesBeforeStop = [...errorCodes].map(([code, n]) => `${code}×${n}`).join(' ');
  holding = false;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  await exited;
  agent.destroy();
  return {
    name,
    heldPolls: held.heldPolls,
    holdMs,
    heapPerPoll: (held.heapUsed - idle.heapUsed) / DEVICES,
    rssPerPoll: (held.rss - idle.rss) / DEVICES,
    rssHeld: held.rss,
    delivered: received.size,
    sent: sent.size,
    paced,
    burst,
    failures: failuresBeforeStop,
    errorCodes: codesBeforeStop,
  };
}

async function main() {
  const hardStop = setTimeout(() => {
    console.error('benchmark exceeded its time limit');
    process.exit(1);
  }, HARD_LIMIT_MS);
  const results = [await runScenario('in-memory bus', {})];

  let redisProcess: ChildProcess | undefined;
  let redisUrl = process.env.BENCH_REDIS_URL;
  if (!redisUrl && onPath('redis-server')) {
    const port = await freePort();
    redisProcess = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 300));
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  if (redisUrl) results.push(await runScenario('Redis bus', { BENCH_REDIS_URL: redisUrl }));
  redisProcess?.kill();
  clearTimeout(hardStop);

  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const ms = (values: number[], p: number) => `${percentile(values, p).toFixed(1)} ms`;
  console.log(`\n${DEVICES} concurrent long-polls, one server process (Node ${process.version}, loopback)\n`);
  console.log(
    '| bus | polls held | time to hold all | heap / held poll | RSS / held poll | delivered | paced p50 | paced p99 | burst p50 | burst p99 |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.heldPolls} | ${(r.holdMs / 1000).toFixed(1)} s | ${kb(r.heapPerPoll)} | ${kb(r.rssPerPoll)} | ` +
        `${r.delivered}/${r.sent} | ${ms(r.paced, 50)} | ${ms(r.paced, 99)} | ${ms(r.burst, 50)} | ${ms(r.burst, 99)} |`,
    );
  }
  console.log(
    `\npaced: ${PACED} commands, one every 2 ms; burst: ${DEVICES - PACED} commands at once. ` +
      `Latency = enqueue request (IPC to the server) -> response parsed by the device. ` +
      `Server RSS with all polls held: ${results.map((r) => `${r.name} ${(r.rssHeld / 1048576).toFixed(0)} MiB`).join(', ')}. ` +
      `Client errors before shutdown: ${results.map((r) => `${r.failures} ${r.errorCodes}`.trim()).join(', ')}.`,
  );
  process.exit(0);
}

void main();
