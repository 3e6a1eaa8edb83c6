import type { Migration } from './migrations.js';

/** `sha256:<hex>` of a text column, the same value as `tokenDigest()` in token-digest.ts. */
const digestOf = (column: string) => `'sha256:' || encode(sha256(convert_to(${column}, 'UTF8')), 'hex')`;

/**
 * A unique digest column filled from the plaintext rows (encrypted rows get theirs from the store). The runner
 * applies versions in order, so on a fresh database this runs before the messenger migration (1001) that creates
 * the table: `createTable` is that migration's own `CREATE TABLE IF NOT EXISTS`, which then finds it in place.
 */
const addDigestColumn = (createTable: string, table: string, column: string, digest: string) => `
${createTable}
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${digest} text;
UPDATE ${table} SET ${digest} = ${digestOf(column)} WHERE ${digest} IS NULL AND ${column} NOT LIKE 'enc:%';
CREATE UNIQUE INDEX IF NOT EXISTS ${table}_${digest} ON ${table} (${digest});
`;

/**
 * Secrets at rest (core range 50-59). Looked-up tokens become digests in SQL; values the API must show again
 * (provider tokens, tenant keys) are encrypted with SECRET_KEY by the stores, which re-encrypt a legacy plaintext
 * row the first time they read it (SQL cannot, it has no key).
 */
// Runs in version order with the others (see SqlStorage.migrate), not in list order.
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
    sql: addDigestColumn(
      `CREATE TABLE IF NOT EXISTS provider_tokens (
  tenant integer PRIMARY KEY,
  token text UNIQUE NOT NULL,
  created_at timestamptz DEFAULT now()
);`,
      'provider_tokens',
      'token',
      'token_digest',
    ),
  },
  {
    version: 52,
    name: 'tenant key digests (keys stay unique across tenants once encrypted)',
    sql: addDigestColumn(
      `CREATE TABLE IF NOT EXISTS tenant_keys (
  tenant integer PRIMARY KEY,
  key text UNIQUE NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`,
      'tenant_keys',
      'key',
      'key_digest',
    ),
  },
];
