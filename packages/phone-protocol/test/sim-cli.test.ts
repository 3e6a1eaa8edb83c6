import { afterEach, describe, expect, it } from 'vitest';
import { runSimulation } from '../src/index.js';
import { runCli } from '../src/sim/cli.js';
import { startServer, type TestServer, waitFor } from './helpers.js';

let server: TestServer;
afterEach(async () => server.close());

describe('callbridge-phone-sim', () => {
  it('runs N devices that receive commands, report results and print a summary', async () => {
    const results: string[] = [];
    server = await startServer({ pull: { rateLimit: false }, onCallResult: (e) => void results.push(e.format) });
    let out = '';
    let err = '';
    const run = runCli(['--url', server.url, '--user', 'operator1', '--password', 'secret-pass', '--devices', '3'], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      signal: AbortSignal.timeout(2500),
    });
    await waitFor(async () => (await server.protocol.onlineDevices()).length === 3, 5000);
    const devices = await server.protocol.onlineDevices();
    for (const [i, device] of devices.entries()) {
      await server.protocol.enqueueCommand({ deviceId: device.deviceId }, { id: `a${i}`, phone: '+7001' });
      await server.protocol.enqueueCommand({ deviceId: device.deviceId }, { id: `b${i}`, phone: '+7002' });
    }
    await waitFor(() => results.length === 6, 5000);
    expect(await run).toBe(0);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ devices: 3, devicesOnline: 3, commands: 6, results: 6, errors: 0 });
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(0);
    expect(summary.latencyMs.p99).toBeLessThan(2000);
    expect(results).toEqual(Array(6).fill('extended'));
    expect(err).toMatch(/devices 3\/3/);
    for (const device of devices) expect(await server.bus.size(device.deviceId)).toBe(0);
  });

  it('explains its usage on bad arguments and fails when nobody can log in', async () => {
    server = await startServer();
    let err = '';
    const io = { out: () => {}, err: (t: string) => (err += t) };
    expect(await runCli(['--url', server.url], io)).toBe(2);
    expect(err).toMatch(/--user and --password are required/);
    const code = await runCli(
      ['--url', server.url, '--user', 'operator1', '--password', 'wrong', '--devices', '2', '--quiet'],
      io,
    );
    expect(code).toBe(1);
  });

  it('logs in again when the session dies (refresh token expired) and keeps receiving commands', async () => {
    const stop = new AbortController();
    server = await startServer({
      pull: { rateLimit: false },
      auth: { secret: 'sim-secret-sim-secret-sim-secret-0123456', accessTtlSeconds: 2, refreshTtlSeconds: 2 },
      onCallResult: () => stop.abort(),
    });
    const { runSimulation } = await import('../src/index.js');
    const run = runSimulation({
      baseUrl: server.url,
      username: 'operator1',
      password: 'secret-pass',
      devices: 1,
      waitSeconds: 1,
      durationSeconds: 15,
      signal: stop.signal,
    });
    await waitFor(async () => (await server.protocol.onlineDevices()).length === 1, 5000);
    const [device] = await server.protocol.onlineDevices();
    await new Promise((r) => setTimeout(r, 3200)); // access and refresh tokens both expired by now
    await server.protocol.enqueueCommand({ deviceId: device!.deviceId }, { id: 'late', phone: '+7003' });
    const summary = await run;
    expect(summary).toMatchObject({ commands: 1, results: 1 });
    expect(summary.errors).toBeGreaterThan(0); // the dead session was noticed and counted
    expect(summary.lastError).toMatch(/authentication failed/);
  }, 25_000);

  it('a result whose session died while the call lasted is sent again after a new login, not lost', async () => {
    const stop = new AbortController();
    const results: string[] = [];
    server = await startServer({
      pull: { rateLimit: false },
      auth: { secret: 'sim-secret-sim-secret-sim-secret-0123456', accessTtlSeconds: 2, refreshTtlSeconds: 2 },
      onCallResult: (e) => {
        results.push(e.update.call_request_id);
        stop.abort();
      },
    });
    await server.protocol.enqueueCommand({ deviceId: 'sim-x-1' }, { id: 'long-call', phone: '+7004' });
    const summary = await runSimulation({
      baseUrl: server.url,
      username: 'operator1',
      password: 'secret-pass',
      devices: 1,
      deviceIdPrefix: 'sim-x',
      waitSeconds: 1,
      answerDelayMs: 3100, // both tokens (2 s) expire during the "call"
      durationSeconds: 10,
      signal: stop.signal,
    });
    expect(results).toEqual(['long-call']);
    expect(summary).toMatchObject({ commands: 1, results: 1 });
    expect(summary.lastError).toMatch(/authentication failed/);
  }, 15_000);
});
