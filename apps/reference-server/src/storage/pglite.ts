import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SqlDriver, SqlQueryable } from './sql-driver.js';
import { SqlStorage } from './sql-storage.js';

interface PgliteTx {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(q: PgliteTx): SqlQueryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      return (await q.query<T>(sql, params ? [...params] : undefined)).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  };
}

export function createPgliteDriver(db: PGlite): SqlDriver {
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}

/**
 * Embedded storage: PGlite with its data in `dataDir` (or in memory when `dataDir` is undefined).
 * Returns the PGlite instance too, for LISTEN-based cache invalidation.
 */
export async function createPgliteStorage(dataDir: string | undefined): Promise<{ storage: SqlStorage; db: PGlite }> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  const storage = new SqlStorage(createPgliteDriver(db));
  await storage.migrate();
  return { storage, db };
}
