import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { fillDevSecrets } from './dev-secrets.js';

describe('fillDevSecrets', () => {
  it('generates missing secrets once (0600) and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-rs-'));
    const env1: Record<string, string | undefined> = { DATA_DIR: dir, JWT_SECRET: 'j'.repeat(40) };
    expect(fillDevSecrets(env1)).toEqual(['ADMIN_TOKEN', 'SECRET_KEY']);
    expect(() => loadConfig(env1)).not.toThrow();
    expect(statSync(join(dir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
    const env2: Record<string, string | undefined> = { DATA_DIR: dir };
    fillDevSecrets(env2);
    expect(env2.ADMIN_TOKEN).toBe(env1.ADMIN_TOKEN);
    expect(env2.SECRET_KEY).toBe(env1.SECRET_KEY);
    expect(JSON.parse(readFileSync(join(dir, 'dev-secrets.json'), 'utf8')).ADMIN_TOKEN).toBe(env1.ADMIN_TOKEN);
  });

  it('never fills anything in production', () => {
    const env: Record<string, string | undefined> = {
      NODE_ENV: 'production',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-rs-')),
    };
    expect(fillDevSecrets(env)).toEqual([]);
    expect(() => loadConfig(env)).toThrow(/ADMIN_TOKEN/);
  });
});
