import { describe, expect, it } from 'vitest';
import { testEnv } from '../test/helpers.js';
import { ConfigError, loadConfig } from './config.js';
import { demoRefusal } from './demo.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({ ...testEnv, PUBLIC_BASE_URL: 'https://pbx.example.com/' });
    expect(c).toMatchObject({
      port: 8080,
      dataDir: './data',
      databaseUrl: undefined,
      publicBaseUrl: 'https://pbx.example.com',
    });
    expect(c.secretKey).toHaveLength(32);
  });

  it('derives the public base URL from PORT when PUBLIC_BASE_URL is unset', () => {
    const { PUBLIC_BASE_URL: _unset, ...env } = testEnv;
    expect(loadConfig({ ...env, PORT: '18080' }).publicBaseUrl).toBe('http://localhost:18080');
    expect(loadConfig({ ...env, PORT: '18080', PUBLIC_BASE_URL: '' }).publicBaseUrl).toBe('http://localhost:18080');
  });

  it('accepts a hex key and treats empty strings as unset', () => {
    const c = loadConfig({ ...testEnv, SECRET_KEY: 'ab'.repeat(32), DATABASE_URL: '', PORT: '' });
    expect(c.secretKey.toString('hex')).toBe('ab'.repeat(32));
    expect(c.databaseUrl).toBeUndefined();
    expect(c.port).toBe(8080);
  });

  it('lists every bad variable by name', () => {
    try {
      loadConfig({ PORT: 'abc', SECRET_KEY: 'short', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      for (const name of ['PORT', 'ADMIN_TOKEN', 'SECRET_KEY', 'JWT_SECRET', 'LOG_LEVEL', 'DATABASE_URL']) {
        expect(msg).toContain(`${name}:`);
      }
      expect(msg).toContain('32-byte key');
      // The bad secret value itself is not echoed back.
      expect(msg).not.toContain('short');
    }
  });

  it('production requires PUBLIC_KEY and WA_WEB_TOKEN, both different from ADMIN_TOKEN', () => {
    const prod = { ...testEnv, RETAILCRM_ALLOW_LOOPBACK: 'false', NODE_ENV: 'production' };
    expect(() => loadConfig(prod)).toThrow(/PUBLIC_KEY: is required when NODE_ENV=production/);
    expect(() => loadConfig(prod)).toThrow(/WA_WEB_TOKEN: is required when NODE_ENV=production/);
    expect(() => loadConfig({ ...prod, PUBLIC_KEY: testEnv.ADMIN_TOKEN, WA_WEB_TOKEN: testEnv.ADMIN_TOKEN })).toThrow(
      /PUBLIC_KEY: must differ from ADMIN_TOKEN[\s\S]*WA_WEB_TOKEN: must differ/,
    );
    const ok = loadConfig({ ...prod, PUBLIC_KEY: 'p'.repeat(16), WA_WEB_TOKEN: 'w'.repeat(16) });
    expect(ok.messenger).toMatchObject({ publicKey: 'p'.repeat(16), waWebToken: 'w'.repeat(16) });
    // Outside production both stay optional (compatibility mode).
    expect(loadConfig(testEnv).messenger.publicKey).toBeUndefined();
  });

  it('--demo refuses NODE_ENV=production', () => {
    expect(demoRefusal({ NODE_ENV: 'production' })).toMatch(/cannot run with NODE_ENV=production/);
    expect(demoRefusal({ NODE_ENV: 'development' })).toBeUndefined();
    expect(demoRefusal({})).toBeUndefined();
  });
});
