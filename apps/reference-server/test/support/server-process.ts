import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));

function findTsup(): string {
  for (let dir = APP_DIR; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'tsup');
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) throw new Error('tsup not found');
  }
}

/**
 * Builds `src/main.ts` with the app's tsup config into a private directory under the app's
 * node_modules/.cache (so its bare imports resolve and a parallel `pnpm build` of dist/ cannot interfere).
 */
export async function buildServerBundle(): Promise<{ mainJs: string; remove: () => void }> {
  const outDir = join(APP_DIR, 'node_modules', '.cache', `cb-test-build-${randomBytes(4).toString('hex')}`);
  await promisify(execFile)(findTsup(), ['--out-dir', outDir, '--silent'], { cwd: APP_DIR, timeout: 60_000 });
  return { mainJs: join(outDir, 'main.js'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout + stderr so far (printed by tests on failure). */
  output(): string;
  /** Resolves once /health answers; rejects if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM and wait (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node ...nodeArgs <mainJs> ...args` with `env` (merged over a minimal base) on `port`. */
export function spawnServerProcess(
  name: string,
  mainJs: string,
  port: number,
  env: Record<string, string>,
  args: string[] = [],
  nodeArgs: string[] = [],
): ServerProcess {
  const child = spawn(process.execPath, [...nodeArgs, mainJs, ...args], {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let done = false;
  exited.then(() => {
    done = true;
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    url,
    pid: child.pid as number,
    child,
    output: () => out,
    exited,
    async ready(timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (done) throw new Error(`${name} exited before it was ready:\n${out}`);
        try {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name} not ready after ${timeoutMs} ms:\n${out}`);
    },
    kill: (signal) => {
      if (!done) child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (done) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
