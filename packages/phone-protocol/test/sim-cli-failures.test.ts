import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../src/sim/cli.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function capture(isTTY = false): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTTY,
    stdout: () => out,
    stderr: () => err,
  };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const login = ['--user', 'operator1', '--password', 'secret-pass'];

describe('callbridge-phone-sim arguments', () => {
  it.each([
    [['--devices', '0'], /--devices must be an integer >= 1 \(got "0"\)/],
    [['--devices', '1.5'], /--devices must be an integer >= 1 \(got "1.5"\)/],
    [['--devices=-3'], /--devices must be an integer >= 1/],
    [['--devices', 'ten'], /--devices must be an integer >= 1 \(got "ten"\)/],
    [['--devices', ''], /--devices must be an integer >= 1/],
    [['--wait', '2.5'], /--wait must be an integer >= 0/],
    [['--heartbeat-every', '0'], /--heartbeat-every must be an integer >= 1/],
    [['--duration', '0'], /--duration must be a number > 0/],
    [['--progress-every=-1'], /--progress-every must be a number > 0/],
    [['--url', 'not-a-url'], /--url must be an http\(s\) URL such as http:\/\/127.0.0.1:3000 \(got "not-a-url"\)/],
    [['--url', 'ftp://127.0.0.1:3000'], /--url must use http or https/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j exits 2 with a message before touching the network', async (args, message) => {
    const io = capture();
    const argv = ['--url', 'http://127.0.0.1:9', ...login, ...args];
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stderr()).toMatch(/--help/);
    expect(io.stdout()).toBe('');
  });

  it('asks for the password when neither --password nor CALLBRIDGE_SIM_PASSWORD is set', async () => {
    const saved = process.env.CALLBRIDGE_SIM_PASSWORD;
    delete process.env.CALLBRIDGE_SIM_PASSWORD;
    try {
      const io = capture();
      expect(await runCli(['--url', 'http://127.0.0.1:9', '--user', 'op'], io)).toBe(2);
      expect(io.stderr()).toMatch(
        /--user and --password are required \(the password may come from CALLBRIDGE_SIM_PASSWORD\)/,
      );
    } finally {
      if (saved !== undefined) process.env.CALLBRIDGE_SIM_PASSWORD = saved;
    }
  });
});

describe('callbridge-phone-sim failures in words', () => {
  it('a server that is down: connection refused with host:port, said once for all devices', async () => {
    const port = await closedPort();
    const io = capture();
    const code = await runCli(['--url', `http://127.0.0.1:${port}`, ...login, '--devices', '3', '--quiet'], io);
    expect(code).toBe(1);
    const lines = io.stderr().trim().split('\n');
    expect(lines).toEqual([
      `callbridge-phone-sim: cannot reach 127.0.0.1:${port}: connection refused: is the server running, and is --url right?`,
      'callbridge-phone-sim: no device came online (3 error(s), see above)',
    ]);
    expect(JSON.parse(io.stdout())).toMatchObject({ devices: 3, devicesOnline: 0, errors: 3 });
  });

  it('a wrong password: 401 names the user and what to check', async () => {
    server = await startServer();
    const io = capture();
    const code = await runCli(['--url', server.url, '--user', 'operator1', '--password', 'wrong', '--quiet'], io);
    expect(code).toBe(1);
    expect(io.stderr()).toContain(
      'callbridge-phone-sim: login refused for user "operator1" (HTTP 401): wrong username or password',
    );
    expect(io.stderr()).not.toContain('{');
  });

  it("the login brake: 429 with the server's Retry-After in seconds", async () => {
    server = await startServer({ loginThrottle: { maxFailuresPerUsername: 1, windowSeconds: 120 } });
    const wrong = ['--url', server.url, '--user', 'operator1', '--password', 'wrong', '--quiet', '--devices', '1'];
    await runCli(wrong, capture()); // the one failure allowed
    const io = capture();
    expect(await runCli(wrong, io)).toBe(1);
    const match = io
      .stderr()
      .match(/throttled by the server \(HTTP 429, login brake after failed attempts\): retry in (\d+) s/);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThan(100);
    expect(Number(match?.[1])).toBeLessThanOrEqual(120);
  });
});

describe('callbridge-phone-sim progress', () => {
  const run = async (isTTY: boolean) => {
    server = await startServer({ pull: { rateLimit: false } });
    const io = capture(isTTY);
    const argv = [
      '--url',
      server.url,
      ...login,
      '--devices',
      '1',
      '--wait',
      '1',
      '--duration',
      '1',
      '--progress-every',
      '0.2',
    ];
    expect(await runCli(argv, io)).toBe(0);
    return io.stderr();
  };

  it('not a terminal: one complete line per interval, no carriage returns or escape codes', async () => {
    const err = await run(false);
    expect(err).not.toContain('\r');
    expect(err).not.toContain('\x1b');
    const lines = err.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^\[\d+s\] devices \d\/1 polls \d+ .* latency p50 \d+ms p99 \d+ms$/);
  });

  it('a terminal: the progress line is redrawn in place and ended once', async () => {
    const err = await run(true);
    expect(err.split('\r').length - 1).toBeGreaterThanOrEqual(3);
    expect(err).toContain('\x1b[K');
    expect(err.match(/\n/g)).toHaveLength(1);
    expect(err.endsWith('\n')).toBe(true);
  });
});

describe('the callbridge-phone-sim bin', () => {
  const bin = fileURLToPath(new URL('../bin/callbridge-phone-sim.js', import.meta.url));
  const exec = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('runs from a checkout without a build: --help exits 0, a bad argument exits 2', async () => {
    const help = await exec(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: callbridge-phone-sim --url/);
    const bad = await exec(['--url', 'http://127.0.0.1:9', ...login, '--devices', '1.5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--devices must be an integer >= 1 \(got "1.5"\)/);
  }, 30_000);
});
