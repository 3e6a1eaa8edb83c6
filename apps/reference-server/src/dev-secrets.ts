import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEYS = ['ADMIN_TOKEN', 'SECRET_KEY', 'JWT_SECRET'] as const;

/**
 * Outside production, fills missing ADMIN_TOKEN / SECRET_KEY / JWT_SECRET from `<DATA_DIR>/dev-secrets.json`
 * (generated once, mode 0600) so `pnpm start` works on a fresh clone. Returns the names it filled.
 */
export function fillDevSecrets(env: Record<string, string | undefined>): string[] {
  if (env.NODE_ENV === 'production') return [];
  const missing = KEYS.filter((k) => !env[k]);
  if (missing.length === 0) return [];
  const dir = env.DATA_DIR || './data';
  const file = join(dir, 'dev-secrets.json');
  let stored: Record<string, string> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const generated: Record<string, string> = {
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
    SECRET_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(48).toString('base64url'),
  };
  let changed = false;
  for (const k of KEYS) {
    if (!stored[k]) {
      stored[k] = generated[k] as string;
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  for (const k of missing) env[k] = stored[k];
  return missing;
}
