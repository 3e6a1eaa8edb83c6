import { describe, expect, it } from 'vitest';
import { testEnv } from '../test/helpers.js';
import { ConfigError, loadConfig } from './config.js';

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
});
