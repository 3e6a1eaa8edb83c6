import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.js';
import { createManualClock } from './testing/manual-clock.js';
import { createTokenService, TokenInvalidError } from './tokens.js';

const secret = 'x'.repeat(40);

describe('tokens', () => {
  it('carries simplejwt claims and honours the configured lifetimes', async () => {
    const clock = createManualClock(1_800_000_000_000);
    const tokens = createTokenService({ secret, accessTtlSeconds: 60, refreshTtlSeconds: 600 }, clock);
    const access = await tokens.issue('42', 'access');
    expect(decodeJwt(access)).toMatchObject({
      token_type: 'access',
      user_id: '42',
      iat: 1_800_000_000,
      exp: 1_800_000_060,
    });
    expect(await tokens.verify(access, 'access')).toMatchObject({ userId: '42', expiresAt: 1_800_000_060_000 });
    await expect(tokens.verify(access, 'refresh')).rejects.toBeInstanceOf(TokenInvalidError);
    clock.advance(60_000);
    await expect(tokens.verify(access, 'access')).rejects.toMatchObject({ code: 'token_not_valid' });
    const other = createTokenService({ secret: 'y'.repeat(40) }, clock);
    await expect(other.verify(await tokens.issue('1', 'access'), 'access')).rejects.toBeInstanceOf(TokenInvalidError);
  });

  it('refuses short secrets and never puts the secret in errors', () => {
    expect(() => createTokenService({ secret: 'short' }, createManualClock())).toThrow(/at least 32/);
    try {
      createTokenService({ secret: 'short-secret-value' }, createManualClock());
    } catch (err) {
      expect(String(err)).not.toContain('short-secret-value');
    }
  });
});

describe('passwords (scrypt)', () => {
  it('verifies the right password only, with a random salt per hash', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain-text')).toBe(false);
  });
});
