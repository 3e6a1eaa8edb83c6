import { afterEach, describe, expect, it } from 'vitest';
import { createUser, type PhoneProtocolOptions } from '../src/index.js';
import { createManualClock, type ManualClock } from '../src/testing/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;
let clock: ManualClock;
afterEach(async () => server.close());

async function start(overrides: Partial<PhoneProtocolOptions> = {}): Promise<TestServer> {
  clock = createManualClock(Date.now());
  server = await startServer({ clock, ...overrides });
  return server;
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

  it('a refresh token works once; the rotated one works next', async () => {
    await start({ auth });
    const first = (await login('operator1', 'secret-pass')).body.refresh as string;
    const rotated = await post('/api/token/refresh/', { refresh: first });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
    const next = await post('/api/token/refresh/', { refresh: rotated.body.refresh as string });
    expect(next.status).toBe(200);
    expect((await post('/api/token/refresh/', { refresh: next.body.refresh as string })).status).toBe(200);
  });

  it('reuse of a used refresh token is 401 and revokes the whole family; other logins are untouched', async () => {
    await start({ auth });
    const stolen = (await login('operator1', 'secret-pass')).body.refresh as string;
    const otherLogin = (await login('operator1', 'secret-pass')).body.refresh as string;
    // The legitimate client rotates twice; then the thief replays the first token.
    const rotated = await post('/api/token/refresh/', { refresh: stolen });
    const rotated2 = await post('/api/token/refresh/', { refresh: rotated.body.refresh as string });
    expect(rotated2.status).toBe(200);
    expect(await post('/api/token/refresh/', { refresh: stolen })).toMatchObject({
      status: 401,
      body: { detail: 'Token is invalid or expired', code: 'token_not_valid' },
    });
    // The family is dead: the newest descendant no longer works either.
    expect((await post('/api/token/refresh/', { refresh: rotated2.body.refresh })).status).toBe(401);
    // A separate login is another family.
    expect((await post('/api/token/refresh/', { refresh: otherLogin })).status).toBe(200);
  });

  it('a password change or a deactivation invalidates refresh and access tokens issued before', async () => {
    const server = await start({ auth });
    const before = (await login('operator1', 'secret-pass')).body as { access: string; refresh: string };
    const user = (await server.users.findById('u1'))!;
    await createUser(server.users, { id: 'u1', username: 'operator1', password: 'new-secret-pass', isAdmin: true });
    expect((await post('/api/token/refresh/', { refresh: before.refresh })).status).toBe(401);
    const info = await fetch(`${server.url}/api/phone/user/info/`, {
      headers: { authorization: `Bearer ${before.access}` },
    });
    expect(info.status).toBe(401);
    // Tokens from a login with the new password work, until the user is deactivated.
    const after = (await login('operator1', 'new-secret-pass')).body as { access: string; refresh: string };
    const rotated = await post('/api/token/refresh/', { refresh: after.refresh });
    expect(rotated.status).toBe(200);
    await server.users.save({ ...(await server.users.findById('u1'))!, isActive: false });
    expect((await post('/api/token/refresh/', { refresh: rotated.body.refresh })).status).toBe(401);
    // Re-activated: the family was revoked on the refused attempt, so a new login is needed.
    await server.users.save({ ...(await server.users.findById('u1'))!, isActive: true });
    expect((await post('/api/token/refresh/', { refresh: rotated.body.refresh })).status).toBe(401);
    expect(user.passwordHash).not.toBe((await server.users.findById('u1'))!.passwordHash);
  });

  it('concurrent replays of one refresh token: exactly one wins', async () => {
    await start({ auth });
    const refresh = (await login('operator1', 'secret-pass')).body.refresh as string;
    const results = await Promise.all(Array.from({ length: 5 }, () => post('/api/token/refresh/', { refresh })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('with rotation turned off a refresh token stays reusable until it expires (simplejwt default)', async () => {
    await start({ auth: { ...auth, rotateRefreshTokens: false } });
    const refresh = (await login('operator1', 'secret-pass')).body.refresh as string;
    expect((await post('/api/token/refresh/', { refresh })).status).toBe(200);
    expect((await post('/api/token/refresh/', { refresh })).status).toBe(200);
  });
});
