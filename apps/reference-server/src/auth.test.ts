import { describe, expect, it } from 'vitest';
import { createAuthenticator, credentialFromHeaders, safeEqual } from './auth.js';

describe('authenticator', () => {
  let now = 1_700_000_000;
  let version = 3;
  let active = true;
  const auth = createAuthenticator({
    adminToken: 'admin-token-0123456789',
    jwtSecret: 'x'.repeat(40),
    nowSeconds: () => now,
    storage: {
      getEnterprise: async (n) =>
        n === '0367'
          ? { number: n, name: 'S', pbxToken: null, active, integrationsConfig: {}, adminTokenVersion: version }
          : undefined,
    },
  });

  it('admin token', async () => {
    expect(await auth.authenticate('admin-token-0123456789')).toEqual({ kind: 'admin' });
    expect(await auth.authenticate('admin-token-012345678')).toBeUndefined();
    expect(await auth.authenticate('')).toBeUndefined();
  });

  it('account JWT: bound to the enterprise and the current version, valid one year', async () => {
    const t = await auth.issueAccountToken('0367', 3);
    expect(await auth.authenticate(t)).toEqual({ kind: 'enterprise', enterpriseNumber: '0367' });
    now += 364 * 86400;
    expect(await auth.authenticate(t)).toBeDefined();
    now += 2 * 86400;
    expect(await auth.authenticate(t)).toBeUndefined();
    now = 1_700_000_000;
    version = 4; // rotated or revoked
    expect(await auth.authenticate(t)).toBeUndefined();
    expect(await auth.authenticate(await auth.issueAccountToken('9999', 0))).toBeUndefined();
  });

  it('account JWT stops working while the enterprise is inactive', async () => {
    const t = await auth.issueAccountToken('0367', version);
    expect(await auth.authenticate(t)).toEqual({ kind: 'enterprise', enterpriseNumber: '0367' });
    active = false;
    expect(await auth.authenticate(t)).toBeUndefined();
    active = true;
    expect(await auth.authenticate(t)).toEqual({ kind: 'enterprise', enterpriseNumber: '0367' });
  });

  it('rejects a token signed with another secret or tampered', async () => {
    const other = createAuthenticator({
      adminToken: 'a'.repeat(20),
      jwtSecret: 'y'.repeat(40),
      storage: { getEnterprise: async () => undefined },
    });
    expect(await auth.authenticate(await other.issueAccountToken('0367', 4))).toBeUndefined();
    const t = await auth.issueAccountToken('0367', 4);
    const [h, p, s] = t.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), enterprise_number: '0500' }),
    ).toString('base64url');
    expect(await auth.authenticate(`${h}.${forged}.${s}`)).toBeUndefined();
  });

  it('reads credentials from headers', () => {
    expect(credentialFromHeaders({ authorization: 'Bearer abc' })).toBe('abc');
    expect(credentialFromHeaders({ 'x-admin-token': 'xyz' })).toBe('xyz');
    expect(credentialFromHeaders({ authorization: 'Basic abc' })).toBeUndefined();
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });
});
