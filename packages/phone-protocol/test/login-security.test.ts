import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type PhoneProtocolOptions } from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;
let clock: ManualClock;
afterEach(async () => server.close());

async function start(overrides: Partial<PhoneProtocolOptions> = {}): Promise<void> {
  clock = new ManualClock(Date.now());
  server = await startServer({ clock, ...overrides });
}

async function post(path: string, payload: unknown) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as { detail?: string; code?: string; access?: string; refresh?: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

const login = (username: string, password: string) => post('/api/token/', { username, password });

describe('login brute-force brake (on by default)', () => {
  it('after 5 failures for a username from one IP answers 429 + Retry-After, even to the right password', async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await login('operator1', `guess-${i}`)).status).toBe(401);
    const blocked = await login('operator1', 'secret-pass');
    expect(blocked).toMatchObject({ status: 429, retryAfter: '900' });
    expect(blocked.body.detail).toMatch(/throttled/);
    // Other accounts from the same address are not locked by this username's failures.
    expect((await login('operator2', 'other-pass')).status).toBe(200);
    clock.advance(899_000);
    expect((await login('operator1', 'secret-pass')).retryAfter).toBe('1');
    clock.advance(1000);
    expect((await login('operator1', 'secret-pass')).status).toBe(200);
  });

  it('a successful login clears the username failures', async () => {
    await start({ loginThrottle: { maxFailuresPerUsername: 2 } });
    expect((await login('operator1', 'wrong')).status).toBe(401);
    expect((await login('operator1', 'secret-pass')).status).toBe(200);
    expect((await login('operator1', 'wrong')).status).toBe(401);
    expect((await login('operator1', 'wrong')).status).toBe(401);
    expect((await login('operator1', 'secret-pass')).status).toBe(429);
  });

  it('caps failures per IP across usernames, and QR guessing counts against the same IP budget', async () => {
    await start({ loginThrottle: { maxFailuresPerIp: 3, windowSeconds: 60 } });
    expect((await login('a', 'x')).status).toBe(401);
    expect((await login('b', 'x')).status).toBe(401);
    expect((await post('/api/phone/qr/exchange/', { token: 'forged' })).status).toBe(401);
    expect(await login('operator1', 'secret-pass')).toMatchObject({ status: 429, retryAfter: '60' });
    const { token } = await server.protocol.createQrToken('u1');
    expect((await post('/api/phone/qr/exchange/', { token })).status).toBe(429);
    clock.advance(60_000);
    expect((await post('/api/phone/qr/exchange/', { token })).status).toBe(200);
  });

  it('counts per client IP (PhoneRequest.ip): failures from one address do not block another', async () => {
    await start({ loginThrottle: { maxFailuresPerUsername: 2 } });
    const attempt = (ip: string, password: string) =>
      server.protocol.handle({
        method: 'POST',
        path: '/api/token/',
        query: {},
        headers: { 'content-type': 'application/json' },
        body: { username: 'operator1', password },
        ip,
      });
    expect((await attempt('203.0.113.7', 'x')).status).toBe(401);
    expect((await attempt('203.0.113.7', 'y')).status).toBe(401);
    const blocked = await attempt('203.0.113.7', 'secret-pass');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['Retry-After']).toBe('900');
    expect((await attempt('198.51.100.1', 'secret-pass')).status).toBe(200);
  });

  it('can be disabled', async () => {
    await start({ loginThrottle: false });
    for (let i = 0; i < 8; i++) expect((await login('operator1', 'wrong')).status).toBe(401);
    expect((await login('operator1', 'secret-pass')).status).toBe(200);
  });
});

describe('refresh rotation revokes the used refresh token', () => {
  const auth = { secret: 'rotation-secret-rotation-secret-0123456', rotateRefreshTokens: true };

  it('a refresh token works once; the rotated one works next; a replay is 401 token_not_valid', async () => {
    await start({ auth });
    const first = (await login('operator1', 'secret-pass')).body.refresh as string;
    const rotated = await post('/api/token/refresh/', { refresh: first });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
    expect(await post('/api/token/refresh/', { refresh: first })).toMatchObject({
      status: 401,
      body: { detail: 'Token is invalid or expired', code: 'token_not_valid' },
    });
    expect((await post('/api/token/refresh/', { refresh: rotated.body.refresh })).status).toBe(200);
  });

  it('concurrent replays of one refresh token: exactly one wins', async () => {
    await start({ auth });
    const refresh = (await login('operator1', 'secret-pass')).body.refresh as string;
    const results = await Promise.all(Array.from({ length: 5 }, () => post('/api/token/refresh/', { refresh })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('without rotation a refresh token stays reusable until it expires (simplejwt default)', async () => {
    await start();
    const refresh = (await login('operator1', 'secret-pass')).body.refresh as string;
    expect((await post('/api/token/refresh/', { refresh })).status).toBe(200);
    expect((await post('/api/token/refresh/', { refresh })).status).toBe(200);
  });
});
