import type { Migration } from './migrations.js';

/** `sha256:<hex>` of a text column, the same value as `tokenDigest()` in token-digest.ts. */
const digestOf = (column: string) => `'sha256:' || encode(sha256(convert_to(${column}, 'UTF8')), 'hex')`;

/** A unique digest column filled from the plaintext rows (encrypted rows get theirs from the store). */
const addDigestColumn = (table: string, column: string, digest: string) => `
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${digest} text;
UPDATE ${table} SET ${digest} = ${digestOf(column)} WHERE ${digest} IS NULL AND ${column} NOT LIKE 'enc:%';
CREATE UNIQUE INDEX IF NOT EXISTS ${table}_${digest} ON ${table} (${digest});
`;

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
    sql: addDigestColumn('provider_tokens', 'token', 'token_digest'),
  },
  {
    version: 52,
    name: 'tenant key digests (keys stay unique across tenants once encrypted)',
    sql: addDigestColumn('tenant_keys', 'key', 'key_digest'),
  },
];
