import { describe, expect, it, vi } from 'vitest';
import {
  constantTimeEqual,
  createPublicKeyAuth,
  extractProviderToken,
  InMemoryProviderTokenStore,
  PublicKeyConfigError,
  verifyProviderToken,
} from './auth.js';
import { ManualClock } from './testing/manual-clock.js';

describe('constantTimeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', true],
    ['', 'a', false],
    ['ключ', 'ключ', true],
  ])('%j vs %j -> %s', (a, b, expected) => {
    expect(constantTimeEqual(a, b)).toBe(expected);
  });
});

describe('provider token', () => {
  it('reads query token first, then X-Provider-Token (any header casing, Headers or record)', () => {
    expect(extractProviderToken({ query: { token: 'q' }, headers: { 'X-Provider-Token': 'h' } })).toBe('q');
    expect(extractProviderToken({ query: {}, headers: { 'x-provider-token': 'h' } })).toBe('h');
    expect(extractProviderToken({ headers: new Headers({ 'X-Provider-Token': 'h2' }) })).toBe('h2');
    expect(extractProviderToken({ query: new URLSearchParams('token=u') })).toBe('u');
    expect(extractProviderToken({ query: { token: ['a', 'b'] } })).toBe('a');
    expect(extractProviderToken({ query: { token: '' } })).toBeUndefined();
    expect(extractProviderToken({})).toBeUndefined();
  });

  it("accepts only the tenant's own token", async () => {
    let n = 0;
    const store = new InMemoryProviderTokenStore(() => `token-${++n}`);
    const t7 = await store.ensure(7);
    expect(await store.ensure(7)).toBe(t7);
    const t8 = await store.ensure(8);
    expect(await verifyProviderToken(store, 7, { query: { token: t7 } })).toEqual({ ok: true });
    expect(await verifyProviderToken(store, 7, { headers: { 'x-provider-token': t7 } })).toEqual({ ok: true });
    const denied = { ok: false, httpStatus: 401, error: 'provider_token_unauthorized' };
    expect(await verifyProviderToken(store, 7, { query: { token: t8 } })).toEqual(denied);
    expect(await verifyProviderToken(store, 7, {})).toEqual(denied);
    expect(await verifyProviderToken(store, 9, { query: { token: t7 } })).toEqual(denied);
  });
});

describe('createPublicKeyAuth', () => {
  it('refuses PUBLIC_KEY equal to ADMIN_TOKEN and a missing ADMIN_TOKEN', () => {
    expect(() => createPublicKeyAuth({ publicKey: 'same', adminToken: 'same' })).toThrow(PublicKeyConfigError);
    expect(() => createPublicKeyAuth({ publicKey: 'p', adminToken: '' })).toThrow(/ADMIN_TOKEN/);
  });

  it('accepts only PUBLIC_KEY when it is set (not the admin token)', () => {
    const auth = createPublicKeyAuth({ publicKey: 'public-1', adminToken: 'admin-1' });
    expect(auth.check('public-1')).toEqual({ ok: true, via: 'public_key' });
    const fail = { ok: false, httpStatus: 401, error: 'invalid_key' };
    expect(auth.check('admin-1')).toEqual(fail);
    expect(auth.check('')).toEqual(fail);
    expect(auth.check(undefined)).toEqual(fail);
  });

  it('falls back to ADMIN_TOKEN without PUBLIC_KEY, warning at most once an hour', () => {
    const clock = new ManualClock();
    const warn = vi.fn();
    const auth = createPublicKeyAuth({ adminToken: 'admin-secret-1', logger: { warn }, clock });
    expect(auth.check('admin-secret-1')).toEqual({ ok: true, via: 'admin_token_fallback' });
    expect(auth.check('admin-secret-1')).toMatchObject({ ok: true });
    clock.advance(59 * 60_000);
    auth.check('admin-secret-1');
    expect(warn).toHaveBeenCalledTimes(1);
    clock.advance(60_000);
    auth.check('admin-secret-1');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(auth.check('wrong')).toMatchObject({ ok: false, error: 'invalid_key' });
    // The secret never reaches the log.
    expect(JSON.stringify(warn.mock.calls)).not.toContain('admin-secret-1');
  });
});
