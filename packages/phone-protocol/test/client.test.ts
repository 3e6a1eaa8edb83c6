import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PhoneClient, type PhoneClientOptions } from '../src/client.js';
import { PhoneAuthError, type PhoneProtocolOptions } from '../src/index.js';
import { createManualClock, type ManualClock } from '../src/testing/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Counted {
  fetch: typeof fetch;
  calls: string[];
}

/** Real fetch that records `METHOD path status` of every exchange. */
function countingFetch(rewrite?: (path: string, n: number) => Response | undefined): Counted {
  const calls: string[] = [];
  let n = 0;
  return {
    calls,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const forced = rewrite?.(url.pathname, n++);
      const res = forced ?? (await fetch(input, init));
      calls.push(`${init?.method ?? 'GET'} ${url.pathname} ${res.status}`);
      return res;
    },
  };
}

async function setup(
  overrides: Partial<PhoneProtocolOptions> = {},
  clientOptions: Partial<PhoneClientOptions> = {},
): Promise<{ client: PhoneClient; clock: ManualClock; server: TestServer; sleeps: number[] }> {
  const clock = createManualClock(Date.now());
  server = await startServer({ clock, pull: { rateLimit: false }, ...overrides });
  const sleeps: number[] = [];
  const client = new PhoneClient({
    baseUrl: server.url,
    deviceId: 'dev-1',
    deviceName: 'Pixel',
    appVersion: '1.0.0',
    clock,
    random: () => 0,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...clientOptions,
  });
  return { client, clock, server, sleeps };
}

describe('PhoneClient against the real server over HTTP', () => {
  it('logs in, registers, receives a command and reports the extended result', async () => {
    const saved: unknown[] = [];
    const { client, server } = await setup({}, { onTokens: (t) => saved.push(t) });
    expect(await client.login('operator1', 'secret-pass')).toEqual({ isAdmin: true });
    expect(saved).toHaveLength(1);
    await client.registerDevice('fcm-abc');
    expect(await server.devices.get('dev-1')).toMatchObject({ userId: 'u1', fcmToken: 'fcm-abc', deviceName: 'Pixel' });
    expect((await client.userInfo()).username).toBe('operator1');
    const pending = client.pull({ waitSeconds: 5 });
    while (server.protocol.stats().heldPolls === 0) await new Promise((r) => setTimeout(r, 2));
    await server.protocol.enqueueCommand({ userId: 'u1' }, { id: '12345', phone: '+79991234567' });
    const result = await pending;
    expect(result).toMatchObject({ status: 'command', command: { id: '12345', phone: '+79991234567' } });
    const sent = await client.sendCallResult({
      callRequestId: '12345',
      status: 'connected',
      startedAt: '2026-02-10T10:00:00Z',
      durationSeconds: 42,
      actionSource: 'crm_ui',
      direction: 'outgoing',
    });
    expect(sent).toEqual({ format: 'extended', acknowledged: true });
    expect(client.queuedTelemetry).toBe(1);
    expect(await client.flushTelemetry()).toBe(1);
    expect(client.queuedTelemetry).toBe(0);
  });

  it('bad credentials and bad QR tokens throw PhoneAuthError', async () => {
    const { client, server } = await setup();
    await expect(client.login('operator1', 'nope')).rejects.toBeInstanceOf(PhoneAuthError);
    await expect(client.loginWithQr('forged')).rejects.toBeInstanceOf(PhoneAuthError);
    const { token } = await server.protocol.createQrToken('u2');
    expect(await client.loginWithQr(token)).toEqual({ username: 'operator2' });
  });

  it('refreshes once for many concurrent 401s (single flight) and retries every request', async () => {
    const counted = countingFetch();
    const { client, clock } = await setup({}, { fetch: counted.fetch });
    await client.login('operator1', 'secret-pass');
    clock.advance(301_000); // the access token expired
    const infos = await Promise.all(Array.from({ length: 5 }, () => client.userInfo()));
    expect(infos.every((i) => i.username === 'operator1')).toBe(true);
    expect(counted.calls.filter((c) => c.startsWith('POST /api/token/refresh/'))).toEqual([
      'POST /api/token/refresh/ 200',
    ]);
    expect(client.metrics.refreshes).toBe(1);
  });

  it('keeps working with refresh rotation + revocation: always presents the newest refresh token', async () => {
    const saved: Array<{ refresh: string }> = [];
    const { client, clock } = await setup(
      { auth: { secret: 'rotation-secret-rotation-secret-0123456', rotateRefreshTokens: true } },
      { onTokens: (t) => saved.push(t) },
    );
    await client.login('operator1', 'secret-pass');
    for (let i = 0; i < 3; i++) {
      clock.advance(301_000);
      expect((await client.userInfo()).username).toBe('operator1');
    }
    expect(client.metrics.refreshes).toBe(3);
    expect(new Set(saved.map((t) => t.refresh)).size).toBe(4);
    expect(client.session?.refresh).toBe(saved.at(-1)?.refresh);
  });

  it('also refreshes on 403, and a dead refresh token ends the session with PhoneAuthError', async () => {
    const counted = countingFetch((path, n) =>
      path === '/api/phone/user/info/' && n === 1 ? new Response('{"detail":"x"}', { status: 403 }) : undefined,
    );
    const { client, clock } = await setup({}, { fetch: counted.fetch });
    await client.login('operator1', 'secret-pass');
    await client.userInfo();
    expect(counted.calls).toEqual([
      'POST /api/token/ 200',
      'GET /api/phone/user/info/ 403',
      'POST /api/token/refresh/ 200',
      'GET /api/phone/user/info/ 200',
    ]);
    clock.advance(2 * 86_400_000);
    await expect(client.userInfo()).rejects.toBeInstanceOf(PhoneAuthError);
    expect(client.session).toBeUndefined();
  });

  it('backs off on 429 honouring Retry-After and queues no telemetry meanwhile', async () => {
    const { client, sleeps } = await setup({ pull: { rateLimit: { burst: 1, intervalMs: 3000 } } });
    await client.login('operator1', 'secret-pass');
    expect((await client.pollOnce({ waitSeconds: 0 }))?.status).toBe('empty');
    expect(client.queuedTelemetry).toBe(1);
    const limited = await client.pollOnce({ waitSeconds: 0 });
    expect(limited).toEqual({ status: 'rate_limited', retryAfterMs: 3000 });
    expect(client.queuedTelemetry).toBe(1); // nothing queued for the throttled request
    expect(client.backoffRemainingMs).toBe(3000); // jitter (500 ms) is shorter than Retry-After
    expect(client.recordTelemetry({ type: 'custom' })).toBe(false);
    expect(client.metrics.telemetryDropped).toBe(1);
    expect((await client.pollOnce({ waitSeconds: 0 }))?.status).toBe('empty');
    expect(sleeps).toEqual([3000]);
    expect(client.metrics.rateLimited).toBe(1);
  });

  it('exponential backoff with jitter when 429 carries no Retry-After', async () => {
    let r = 0;
    const counted = countingFetch((path) =>
      path === '/api/phone/calls/pull/' ? new Response(null, { status: 429 }) : undefined,
    );
    const { client, sleeps } = await setup({}, { fetch: counted.fetch, random: () => r, backoff: { baseMs: 1000 } });
    await client.login('operator1', 'secret-pass');
    for (const value of [0, 0.5, 0.999]) {
      r = value;
      await client.pollOnce({ waitSeconds: 0 });
    }
    await client.pollOnce({ waitSeconds: 0 });
    // 1st: 1000*(0.5+0.5*0) = 500; 2nd: 2000*(0.5+0.25) = 1500; 3rd: 4000*(0.5+0.4995) = 3998.
    expect(sleeps.map(Math.round)).toEqual([500, 1500, 3998]);
  });

  it('falls back from the extended to the legacy payload on a strict server', async () => {
    const counted = countingFetch();
    const { client } = await setup({ acceptExtendedCallUpdates: false }, { fetch: counted.fetch });
    await client.login('operator1', 'secret-pass');
    const sent = await client.sendCallResult({ callRequestId: '1', status: 'no_answer', actionSource: 'manual' });
    expect(sent).toEqual({ format: 'legacy', acknowledged: false });
    expect(counted.calls.slice(-2)).toEqual(['POST /api/phone/calls/update/ 400', 'POST /api/phone/calls/update/ 200']);
    expect(client.metrics.legacyFallbacks).toBe(1);
    // No extended field: legacy straight away.
    await client.sendCallResult({ callRequestId: '2', status: 'rejected' });
    expect(counted.calls.at(-1)).toBe('POST /api/phone/calls/update/ 200');
    expect(client.metrics.legacyFallbacks).toBe(1);
  });

  it.each([400, 415, 422])('falls back to legacy when the extended payload gets %i', async (status) => {
    const bodies: unknown[] = [];
    let first = true;
    const counted = countingFetch((path) => {
      if (path !== '/api/phone/calls/update/' || !first) return undefined;
      first = false;
      return new Response('{"detail":"strict"}', { status, headers: { 'content-type': 'application/json' } });
    });
    const spy: typeof fetch = (input, init) => {
      if (String(input).endsWith('/calls/update/')) bodies.push(JSON.parse(String(init?.body)));
      return counted.fetch(input, init);
    };
    const { client } = await setup({}, { fetch: spy });
    await client.login('operator1', 'secret-pass');
    const sent = await client.sendCallResult({
      callRequestId: '9',
      status: 'connected',
      startedAt: '2026-02-10T10:00:00Z',
      durationSeconds: 42,
      direction: 'outgoing',
    });
    expect(sent.format).toBe('legacy');
    expect(bodies[0]).toMatchObject({ direction: 'outgoing' });
    // Exactly the seed's 4 legacy fields on the retry.
    expect(bodies[1]).toEqual({
      call_request_id: '9',
      call_status: 'connected',
      call_started_at: '2026-02-10T10:00:00Z',
      call_duration_seconds: 42,
    });
  });

  it('does not fall back on other errors (500 is not a strictness signal)', async () => {
    const counted = countingFetch((path) =>
      path === '/api/phone/calls/update/' ? new Response('{"detail":"x"}', { status: 500 }) : undefined,
    );
    const { client } = await setup({}, { fetch: counted.fetch });
    await client.login('operator1', 'secret-pass');
    await expect(
      client.sendCallResult({ callRequestId: '9', status: 'connected', actionSource: 'manual' }),
    ).rejects.toMatchObject({ status: 500, isRetryable: true });
    expect(counted.calls.filter((c) => c.includes('calls/update'))).toHaveLength(1);
    expect(client.metrics.legacyFallbacks).toBe(0);
  });

  it('sends a heartbeat every N polls with its poll state', async () => {
    const { client, server } = await setup({}, { heartbeatEveryPolls: 3 });
    await client.login('operator1', 'secret-pass');
    await client.registerDevice();
    for (let i = 0; i < 7; i++) await client.pollOnce({ waitSeconds: 0 });
    expect(client.metrics.heartbeats).toBe(2);
    const device = await server.devices.get('dev-1');
    expect(device).toMatchObject({ appVersion: '1.0.0', lastPollCode: 204 });
    expect(device?.lastHeartbeatAt).toBeDefined();
    await client.sendLogs({ payload: 'masked', levelSummary: 'WARN:1', source: 'support_report' });
  });

  it('gives up on a silent server after requestTimeoutMs (+ wait_seconds for polls) with a retryable error', async () => {
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as AddressInfo;
      const client = new PhoneClient({
        baseUrl: `http://127.0.0.1:${port}`,
        deviceId: 'd',
        requestTimeoutMs: 150,
        tokens: { access: 'a', refresh: 'r' },
      });
      const started = Date.now();
      await expect(client.pull({ waitSeconds: 0 })).rejects.toMatchObject({ code: 'network_error', isRetryable: true });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
