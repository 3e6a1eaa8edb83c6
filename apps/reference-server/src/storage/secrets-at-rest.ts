import type { Migration } from './migrations.js';

/** `sha256:<hex>` of a text column, the same value as `tokenDigest()` in token-digest.ts. */
const digestOf = (column: string) => `'sha256:' || encode(sha256(convert_to(${column}, 'UTF8')), 'hex')`;

/**
 * Secrets at rest (core range 50-59). Looked-up tokens become digests in SQL; values the API must show again
 * (provider tokens, tenant keys) are encrypted with SECRET_KEY by the stores, which re-encrypt a legacy plaintext
 * row the first time they read it (SQL cannot, it has no key).
 */
export const secretsAtRestMigrations: readonly Migration[] = [
  {
    version: 50,
    name: 'PBX tokens stored as digests',
    sql: `
UPDATE enterprises SET pbx_token = ${digestOf('pbx_token')}, updated_at = now()
 WHERE pbx_token IS NOT NULL AND pbx_token NOT LIKE 'sha256:%';
`,
  },
  {
    version: 51,
    name: 'provider token digests for lookups (the token itself is encrypted by the store)',
    sql: `
ALTER TABLE provider_tokens ADD COLUMN IF NOT EXISTS token_digest text;
UPDATE provider_tokens SET token_digest = ${digestOf('token')} WHERE token_digest IS NULL AND token NOT LIKE 'enc:%';
CREATE UNIQUE INDEX IF NOT EXISTS provider_tokens_digest ON provider_tokens (token_digest);
`,
  },
  {
    version: 52,
    name: 'tenant key digests (keys stay unique across tenants once encrypted)',
    sql: `
ALTER TABLE tenant_keys ADD COLUMN IF NOT EXISTS key_digest text;
UPDATE tenant_keys SET key_digest = ${digestOf('key')} WHERE key_digest IS NULL AND key NOT LIKE 'enc:%';
CREATE UNIQUE INDEX IF NOT EXISTS tenant_keys_digest ON tenant_keys (key_digest);
`,
  },
];
