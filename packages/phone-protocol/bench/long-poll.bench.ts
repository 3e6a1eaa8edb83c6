/**
 * Held long-polls, phone-protocol against nginx + nchan in the same run.
 *
 * For each server: start it with no connections and measure its RSS (baseline), open DEVICES idle keep-alive
 * connections (one request each) and measure again (connection cost), send one long-poll on every connection,
 * time until the server holds them all and measure again (poll cost). Then publish commands at RATE per second
 * over HTTP to held devices and time publish -> response received (delivery p50/p99). Servers run in their own
 * processes; this process is only a raw-socket client (precomputed requests, minimal response parsing), so its
 * own memory and its cost per request stay out of the server figures. Everything repeats ROUNDS times.
 *
 *   pnpm --filter @callbridge/phone-protocol bench     (DEVICES=10000 ROUNDS=3 RATE=100 COMMANDS=300)
 */
import { type ChildProcess, execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile } from '../src/sim/stats.js';

const DEVICES = Number(process.env.DEVICES ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const RATE = Number(process.env.RATE ?? 100);
const COMMANDS = Math.min(DEVICES, Number(process.env.COMMANDS ?? 300));
const HARD_LIMIT_MS = Number(process.env.HARD_LIMIT_MS ?? 1_200_000);
const NCHAN_MODULE = process.env.NCHAN_MODULE ?? '/usr/lib/nginx/modules/ngx_nchan_module.so';
/**
 * Comma-separated indexes of the servers to run (0 node:http, 1 Express, 2 Redis bus, 3 nchan, 4 bare node:http);
 * all by default.
 */
const ONLY = process.env.ONLY?.split(',');
const WANT_FDS = DEVICES * 2 + 1_000;
const here = __dirname;
const BARE = 'bare node:http, no protocol (the floor for a Node server)';

// ---- raw HTTP/1.1 client over net sockets -------------------------------------------------------------------

interface Response {
  status: number;
  body: string;
}
type OnResponse = (res: Response) => void;

let socketErrors = 0;

/** One keep-alive connection; one request at a time (the next `send` after the previous answer). */
class Conn {
  private buf = '';
  private onResponse: OnResponse | undefined;
  readonly socket: Socket;
  constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1' });
    this.socket.setEncoding('latin1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: string) => {
      this.buf += chunk;
      this.parse();
    });
    this.socket.on('error', () => {
      socketErrors += 1;
    });
  }
  send(raw: string, onResponse: OnResponse): void {
    this.onResponse = onResponse;
    this.socket.write(raw);
  }
  request(raw: string): Promise<Response> {
    return new Promise((resolve) => this.send(raw, resolve));
  }
  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.slice(0, end);
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      let body: string;
      let rest: number;
      if (length) {
        rest = end + 4 + Number(length[1]);
        if (this.buf.length < rest) return;
        body = this.buf.slice(end + 4, rest);
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = this.buf.indexOf('0\r\n\r\n', end + 4);
        if (last < 0) return;
        body = this.buf.slice(end + 4, last);
        rest = last + 5;
      } else {
        body = '';
        rest = end + 4;
      }
      this.buf = this.buf.slice(rest);
      const callback = this.onResponse;
      this.onResponse = undefined;
      callback?.({ status, body });
    }
  }
  close(): void {
    this.socket.destroy();
  }
}

const get = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\nHost: bench\r\n${headers}\r\n`;
const post = (path: string, body: string): string =>
  `POST ${path} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the servers under test -------------------------------------------------------------------------------

interface Memory {
  rss: number;
  heap?: number;
}

interface Target {
  name: string;
  port: number;
  /** A cheap request that leaves an idle keep-alive connection (and registers the device, for phone-protocol). */
  idleRequest(device: number): string;
  pollRequest(device: number): string;
  /** Answers at once with a message already published to the device (warms the delivery path). */
  takeRequest(device: number): string;
  publishRequest(device: number, id: string): string;
  held(): Promise<number>;
  connections(): Promise<number | undefined>;
  memory(): Promise<Memory>;
  /** Node servers: publish request received -> the poll's answer written, per delivery (ms). */
  serverLatency?(): Promise<number[]>;
  stop(): Promise<void>;
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

async function startPhone(name: string, env: Record<string, string>, script = 'server.cjs'): Promise<Target> {
  const child = fork(join(here, script), [], {
    execArgv: [
      '--expose-gc',
      '--max-old-space-size=1024',
      ...(process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    env: { ...process.env, ...env },
  });
  const ready = await new Promise<{ port: number; token: string }>((resolve) =>
    child.once('message', (m) => resolve(m as { port: number; token: string })),
  );
  const auth = `Authorization: Bearer ${ready.token}\r\n`;
  return {
    name,
    port: ready.port,
    idleRequest: (device) => get(`/api/phone/calls/pull/?device_id=d${device}&wait_seconds=0`, auth),
    pollRequest: (device) => get(`/api/phone/calls/pull/?device_id=d${device}&wait_seconds=90`, auth),
    takeRequest: (device) => get(`/api/phone/calls/pull/?device_id=d${device}&wait_seconds=0`, auth),
    publishRequest: (device, id) => post(`/bench/enqueue?device=d${device}&id=${id}`, ''),
    held: async () => (await ask<{ held: number }>(child, { type: 'stats' }, 'stats')).held,
    connections: async () => (await ask<{ connections: number }>(child, { type: 'stats' }, 'stats')).connections,
    memory: async () => {
      const mem = await ask<{ rss: number; heapUsed: number }>(child, { type: 'mem' }, 'mem');
      return { rss: mem.rss, heap: mem.heapUsed };
    },
    serverLatency: async () => (await ask<{ latency: number[] }>(child, { type: 'trace' }, 'trace')).latency,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
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

const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
};

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

/** nginx + nchan as our own process: temp prefix, free loopback port, one process (master_process off). */
async function startNchan(): Promise<Target> {
  const prefix = mkdtempSync(join(tmpdir(), 'nchan-bench-'));
  const port = await freePort();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `load_module ${NCHAN_MODULE};
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${WANT_FDS};
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections ${DEVICES + 1_000}; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /ping { return 204; }
    location = /status { nchan_stub_status; }
    location ~ ^/sub/(\\w+)$ { nchan_subscriber longpoll; nchan_channel_id $1; nchan_subscriber_timeout 90s; }
    location ~ ^/pub/(\\w+)$ { nchan_publisher; nchan_channel_id $1; nchan_message_timeout 60s; }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], {
    stdio: 'ignore',
  });
  await waitForPort(port, 5_000);
  const pid = nginx.pid as number;
  const status = new Conn(port);
  const stat = async (field: string) => {
    const res = await status.request(get('/status'));
    return Number(new RegExp(`${field}:\\s*(\\d+)`).exec(res.body)?.[1] ?? Number.NaN);
  };
  return {
    name: 'nginx + nchan',
    port,
    idleRequest: () => get('/ping'),
    pollRequest: (device) => get(`/sub/d${device}`),
    takeRequest: (device) => get(`/sub/d${device}`),
    publishRequest: (device, id) => post(`/pub/d${device}`, `{"id":"${id}","phone":"+79990000000"}`),
    held: () => stat('subscribers'),
    // The status connection itself is one of the active connections.
    connections: async () => (await stat('active connections')) - 1,
    memory: async () => ({ rss: rssOf(pid) }),
    stop: async () => {
      status.close();
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

// ---- one measured run ---------------------------------------------------------------------------------------

interface Run {
  name: string;
  connRss: number;
  pollRss: number;
  totalRss: number;
  connHeap?: number;
  pollHeap?: number;
  holdMs: number;
  held: number;
  p50: number;
  p99: number;
  serverP50?: number;
  serverP99?: number;
  /** This client's own event-loop delay while it published and read the answers (ms). */
  clientDelayP99: number;
  delivered: number;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}

async function measure(target: Target): Promise<Run> {
  // Warm-up through a small pool (registers every device, warms the JIT), then closed: the baseline holds none.
  const pool = Array.from({ length: 200 }, () => new Conn(target.port));
  await Promise.all(
    pool.map(async (conn, p) => {
      for (let device = p; device < DEVICES; device += pool.length) await conn.request(target.idleRequest(device));
      // Deliveries to devices outside the measured set, so the publish -> 200 path is compiled before timing it.
      for (let k = 0; k < 4; k++) {
        const spare = DEVICES + p * 4 + k;
        await conn.request(target.publishRequest(spare, `warm${spare}`));
        const taken = await conn.request(target.takeRequest(spare));
        if (taken.status !== 200) throw new Error(`${target.name}: warm-up delivery answered ${taken.status}`);
      }
    }),
  );
  for (const conn of pool) conn.close();
  await waitUntil(async () => (await target.connections()) === 0, 5_000, 50);
  const base = await target.memory();

  const conns: Conn[] = [];
  for (let i = 0; i < DEVICES; i += 500) {
    const batch = Array.from({ length: Math.min(500, DEVICES - i) }, (_, k) => {
      const conn = new Conn(target.port);
      conns.push(conn);
      return conn.request(target.idleRequest(i + k));
    });
    await Promise.all(batch);
  }
  const connected = await target.memory();

  const received = new Map<number, number>();
  const started = performance.now();
  conns.forEach((conn, device) => {
    conn.send(target.pollRequest(device), (res) => {
      if (res.status === 200) received.set(device, performance.now());
    });
  });
  await waitUntil(async () => (await target.held()) >= DEVICES, 30_000, 10);
  const holdMs = performance.now() - started;
  const heldMem = await target.memory();
  const held = await target.held();

  // Paced publishing over one keep-alive connection, each command to a different held device.
  const publisher = new Conn(target.port);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const sent = new Map<number, number>();
  const every = 1000 / RATE;
  const t0 = performance.now();
  for (let i = 0; i < COMMANDS; i++) {
    const device = Math.floor((i * DEVICES) / COMMANDS);
    const due = t0 + i * every;
    while (performance.now() < due) await sleep(Math.max(0, due - performance.now() - 1));
    sent.set(device, performance.now());
    publisher.socket.write(target.publishRequest(device, `c${i}`));
  }
  await waitUntil(async () => received.size >= COMMANDS, 10_000, 50);
  loopDelay.disable();
  const serverLatency = await target.serverLatency?.();
  const latency = [...sent].filter(([device]) => received.has(device)).map(([d, t]) => received.get(d)! - t);

  await target.stop();
  publisher.close();
  for (const conn of conns) conn.close();
  return {
    name: target.name,
    connRss: (connected.rss - base.rss) / DEVICES,
    pollRss: (heldMem.rss - connected.rss) / DEVICES,
    totalRss: (heldMem.rss - base.rss) / DEVICES,
    ...(base.heap !== undefined && connected.heap !== undefined && heldMem.heap !== undefined
      ? { connHeap: (connected.heap - base.heap) / DEVICES, pollHeap: (heldMem.heap - connected.heap) / DEVICES }
      : {}),
    holdMs,
    held,
    p50: percentile(latency, 50),
    p99: percentile(latency, 99),
    ...(serverLatency?.length
      ? { serverP50: percentile(serverLatency, 50), serverP99: percentile(serverLatency, 99) }
      : {}),
    clientDelayP99: loopDelay.percentile(99) / 1e6,
    delivered: received.size,
  };
}

// ---- orchestration and report -------------------------------------------------------------------------------

function raiseFdLimit(): void {
  if (process.env.BENCH_FDS_RAISED) return;
  // Node cannot setrlimit: re-run this script under a shell that raised the limit (children inherit it).
  const script = `ulimit -n ${WANT_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const result = spawnSync('sh', ['-c', script, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_FDS_RAISED: '1' },
  });
  process.exit(result.status ?? 1);
}

const median = (values: number[]) => percentile(values, 50);
const spread = (values: number[], digits: number, unit = '') =>
  values.length > 1
    ? `${median(values).toFixed(digits)}${unit} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
    : `${(values[0] ?? Number.NaN).toFixed(digits)}${unit}`;

async function main(): Promise<void> {
  raiseFdLimit();
  const hardStop = setTimeout(() => {
    console.error('benchmark exceeded its time limit');
    process.exit(1);
  }, HARD_LIMIT_MS);
  const fds = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString());
  if (fds < DEVICES + 500) console.error(`warning: ulimit -n is ${fds}, below ${DEVICES} connections`);

  const nchan = onPath('nginx') && existsSync(NCHAN_MODULE);
  if (!nchan) console.error(`nginx with the nchan module (${NCHAN_MODULE}) is not installed: no peer row in this run`);
  let redisProcess: ChildProcess | undefined;
  let redisUrl = process.env.BENCH_REDIS_URL;
  if (!redisUrl && onPath('redis-server')) {
    const port = await freePort();
    redisProcess = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPort(port, 5_000);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const load = loadavg()[0]!.toFixed(1);
  const runs: Run[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Fixed indexes (ONLY=...): a server that cannot run here (no Redis, no nchan) leaves a hole.
      const starts: Array<(() => Promise<Target>) | undefined> = [
        () => startPhone('phone-protocol, node:http handler, memory bus', { BENCH_HTTP: 'node' }),
        () => startPhone('phone-protocol, Express router, memory bus', { BENCH_HTTP: 'express' }),
        redisUrl
          ? () =>
              startPhone('phone-protocol, node:http handler, Redis bus', {
                BENCH_HTTP: 'node',
                BENCH_REDIS_URL: redisUrl,
              })
          : undefined,
        nchan ? startNchan : undefined,
        () => startPhone(BARE, {}, 'bare-server.cjs'),
      ];
      for (const start of starts.filter((s, i) => s && (!ONLY || ONLY.includes(String(i))))) {
        if (!start) continue;
        const run = await measure(await start());
        runs.push(run);
        console.error(
          `round ${round}: ${run.name}: ${run.held} held in ${run.holdMs.toFixed(0)} ms, ` +
            `${(run.totalRss / 1024).toFixed(1)} KiB RSS/poll, p50 ${run.p50.toFixed(2)} p99 ${run.p99.toFixed(2)} ms` +
            (run.serverP50 === undefined
              ? ''
              : ` (in the server: p50 ${run.serverP50.toFixed(3)} p99 ${run.serverP99?.toFixed(3)} ms)`) +
            `, client loop delay p99 ${run.clientDelayP99.toFixed(2)} ms`,
        );
      }
    }
  } finally {
    redisProcess?.kill();
  }
  clearTimeout(hardStop);

  const names = [...new Set(runs.map((r) => r.name))];
  const of = (name: string, pick: (r: Run) => number | undefined) =>
    runs.filter((r) => r.name === name).map(pick) as number[];
  const kib = (bytes: number[]) =>
    spread(
      bytes.map((b) => b / 1024),
      1,
    );
  const peer = runs.filter((r) => r.name === 'nginx + nchan');
  const inServer = (name: string) => {
    const p50 = of(name, (r) => r.serverP50).filter((v) => v !== undefined);
    const p99 = of(name, (r) => r.serverP99).filter((v) => v !== undefined);
    return p50.length ? `${spread(p50, 3)} / ${spread(p99, 3)} ms` : '—';
  };
  console.log(
    `\n${DEVICES} held long-polls, ${ROUNDS} rounds, median (min–max). Node ${process.version}, ` +
      `${cpus().length} cores, load average ${load} at start; client: raw sockets in a separate process.\n`,
  );
  console.log(
    '| server | RSS / held poll, connection included | of which the idle connection | of which the poll | heap / connection | heap / poll | time to hold all | delivery p50 | delivery p99 | of which in the server, p50 / p99 | delivered |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const name of names) {
    const heapConn = of(name, (r) => r.connHeap).filter((v) => v !== undefined);
    const heapPoll = of(name, (r) => r.pollHeap).filter((v) => v !== undefined);
    console.log(
      `| ${name} | ${kib(of(name, (r) => r.totalRss))} KiB | ${kib(of(name, (r) => r.connRss))} KiB | ` +
        `${kib(of(name, (r) => r.pollRss))} KiB | ${heapConn.length ? `${kib(heapConn)} KiB` : '—'} | ` +
        `${heapPoll.length ? `${kib(heapPoll)} KiB` : '—'} | ${spread(
          of(name, (r) => r.holdMs / 1000),
          2,
          ' s',
        )} | ` +
        `${spread(
          of(name, (r) => r.p50),
          2,
          ' ms',
        )} | ${spread(
          of(name, (r) => r.p99),
          2,
          ' ms',
        )} | ${inServer(name)} | ` +
        `${Math.min(...of(name, (r) => r.delivered))}/${COMMANDS} |`,
    );
  }
  if (peer.length > 0) {
    console.log('\nRatios to nginx + nchan, per round (same run), median (min–max):');
    for (const name of names.filter((n) => n !== 'nginx + nchan')) {
      const mine = runs.filter((r) => r.name === name);
      const ratio = (pick: (r: Run) => number) => mine.map((r, i) => pick(r) / pick(peer[i]!));
      console.log(
        `- ${name}: RSS/poll ${spread(
          ratio((r) => r.totalRss),
          2,
          '×',
        )}, delivery p50 ${spread(
          ratio((r) => r.p50),
          2,
          '×',
        )}, p99 ${spread(
          ratio((r) => r.p99),
          2,
          '×',
        )}, time to hold ${spread(
          ratio((r) => r.holdMs),
          2,
          '×',
        )}`,
      );
    }
  } else if (nchan) {
    console.log('\nnginx + nchan left out of this run (ONLY=...): no peer ratio.');
  } else {
    console.log('\nnginx + nchan not installed (nginx-light + libnginx-mod-nchan): no peer in this run.');
  }
  console.log(
    `\nDelivery: ${COMMANDS} commands at ${RATE}/s over HTTP (phone-protocol: POST /bench/enqueue; nchan: POST /pub/<id>), ` +
      `each to a different held device; publish write -> full response read. Socket errors: ${socketErrors}.`,
  );
  console.log(
    `In the server: publish request received -> the poll's answer written (Node servers only). This client's own ` +
      `event-loop delay while publishing, p99 per round: ${runs.map((r) => r.clientDelayP99.toFixed(2)).join(', ')} ms ` +
      '(the same client measures every row).',
  );
  process.exit(0);
}

void main();
