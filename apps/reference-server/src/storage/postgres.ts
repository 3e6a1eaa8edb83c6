import pg from 'pg';
import type { SqlDriver, SqlQueryable } from './sql-driver.js';
import { SqlStorage } from './sql-storage.js';

function wrap(q: pg.Pool | pg.PoolClient): SqlQueryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      return (await q.query(sql, params ? [...params] : undefined)).rows as T[];
    },
    async exec(sql: string) {
      await q.query(sql);
    },
  };
}

export function createPostgresDriver(pool: pg.Pool): SqlDriver {
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** PostgreSQL storage over a node-postgres pool; runs the shared migrations. */
export async function createPostgresStorage(connectionString: string, poolSize = 10): Promise<SqlStorage> {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client error (server restart) must not crash the process; the pool replaces the client.
  pool.on('error', () => undefined);
  const storage = new SqlStorage(createPostgresDriver(pool));
  await storage.migrate();
  return storage;
}
