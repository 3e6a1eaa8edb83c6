/**
 * Vitest global setup: gives integration tests a real PostgreSQL and Redis.
 *
 * - `TEST_DATABASE_URL` / `TEST_REDIS_URL` already set: used as they are.
 * - Otherwise, when `initdb`/`pg_ctl` and `redis-server` are on PATH, a throw-away PostgreSQL cluster
 *   and a Redis server are started on free loopback ports and stopped after the run.
 * - Under CI (`CI=true`) a missing service is an error, so integration tests can never be skipped silently.
 *   Locally they are skipped (tests use `describe.skipIf(!process.env.TEST_DATABASE_URL)`).
 * - The throw-away PostgreSQL runs with fsync off (tests need no crash safety of the cluster itself);
 *   `TEST_PG_FSYNC=on` (the benches) keeps PostgreSQL's default so commit figures include the WAL flush.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isCi = process.env.CI === 'true' || process.env.CI === '1';
const cleanups: Array<() => void | Promise<void>> = [];

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** initdb refuses to run as root; run the cluster as the `postgres` system user then. */
function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
  return [cmd, args];
}

async function startPostgres(): Promise<string | undefined> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  if (!onPath('initdb') || !onPath('pg_ctl')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const run = (cmd: string, args: string[]) => {
    const [c, a] = asPostgresUser(cmd, args);
    execFileSync(c, a, { stdio: 'pipe' });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${process.env.TEST_PG_FSYNC === 'on' ? 'on' : 'off'} -c max_connections=200`,
    '-w',
    'start',
  ]);
  cleanups.push(() => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

async function waitForRedis(port: number, child: ChildProcess): Promise<void> {
  const { Socket } = await import('node:net');
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => {
        socket.write('PING\r\n');
        socket.once('data', (chunk) => {
          socket.destroy();
          resolve(chunk.toString().startsWith('+PONG'));
        });
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not answer PING');
}

async function startRedis(): Promise<string | undefined> {
  if (process.env.TEST_REDIS_URL) return process.env.TEST_REDIS_URL;
  if (!onPath('redis-server')) return undefined;
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  cleanups.push(() => {
    child.kill('SIGTERM');
  });
  await waitForRedis(port, child);
  return `redis://127.0.0.1:${port}`;
}

export async function setup(): Promise<void> {
  const [databaseUrl, redisUrl] = await Promise.all([startPostgres(), startRedis()]);
  const missing = [!databaseUrl && 'PostgreSQL (initdb/pg_ctl)', !redisUrl && 'Redis (redis-server)'].filter(Boolean);
  if (missing.length > 0) {
    const message = `Integration services unavailable: ${missing.join(', ')}. Install them or set TEST_DATABASE_URL / TEST_REDIS_URL.`;
    if (isCi) throw new Error(message);
    console.warn(`[test-services] ${message} Integration tests will be skipped.`);
  }
  if (databaseUrl) process.env.TEST_DATABASE_URL = databaseUrl;
  if (redisUrl) process.env.TEST_REDIS_URL = redisUrl;
}

export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
