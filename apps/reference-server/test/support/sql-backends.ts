import { afterAll, beforeAll } from 'vitest';
import { createPgliteStorage } from '../../src/storage/pglite.js';
import { createPostgresStorage } from '../../src/storage/postgres.js';
import type { SqlStorage } from '../../src/storage/sql-storage.js';
import { createTestDatabase } from '../helpers.js';

/** One way to get the server's migrated SQL storage: in-process PGlite, or a throw-away PostgreSQL database. */
export interface SqlBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<{ storage: SqlStorage; close(): Promise<void> }>;
}

const pglite: SqlBackend = {
  name: 'pglite',
  async open() {
    const { storage } = await createPgliteStorage(undefined);
    return { storage, close: () => storage.close() };
  },
};

const postgres = (baseUrl: string): SqlBackend => ({
  name: 'postgres',
  async open() {
    const db = await createTestDatabase(baseUrl);
    const storage = await createPostgresStorage(db.url, 4);
    return {
      storage,
      close: async () => {
        await storage.close();
        await db.drop();
      },
    };
  },
});

/** PGlite, plus PostgreSQL when `TEST_DATABASE_URL` is set (the vitest global setup starts one). */
export function sqlBackends(): SqlBackend[] {
  const url = process.env.TEST_DATABASE_URL;
  return url ? [pglite, postgres(url)] : [pglite];
}

/**
 * Opens the backend's storage before the enclosing suite's tests and closes it after them; the returned getter is
 * read inside tests (and port-suite factories), once the storage is open.
 */
export function useSqlStorage(backend: SqlBackend): () => SqlStorage {
  let opened: { storage: SqlStorage; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    opened = await backend.open();
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
  });
  return () => {
    if (!opened) throw new Error(`${backend.name} storage is not open yet (read it inside a test)`);
    return opened.storage;
  };
}
