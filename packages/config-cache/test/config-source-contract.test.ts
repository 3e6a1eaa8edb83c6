import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createManualInvalidationSource,
  createPgListenInvalidationSource,
  createPgliteInvalidationSource,
  defaultKeyFromPayload,
} from '../src/index.js';
import { registerConfigSourceSuite } from '../src/testing/index.js';
import {
  CONFIG_CHANNEL,
  ENTERPRISES_SCHEMA_SQL,
  enterprisesLoader,
  type RowsQuery,
  withDatabase,
  writeEnterprise,
} from './helpers.js';
import { onAdmin } from './pg-admin.js';

type Cfg = { v: number };
const runner = { describe, it, expect, afterEach };
const version = (value: Cfg) => value.v;

// The in-memory source: the "store" is a map and a write emits what a trigger would send.
registerConfigSourceSuite<Cfg>(runner, 'manual source', () => {
  const data = new Map<string, Cfg>();
  const source = createManualInvalidationSource();
  return {
    source,
    loader: {
      load: async (key) => data.get(key),
      loadAll: async () => [...data.entries()],
    },
    async write(key, v) {
      if (v === undefined) data.delete(key);
      else data.set(key, { v });
      const payload = JSON.stringify({ enterprise_number: key, integration_type: 'retailcrm' });
      source.emit({ key: defaultKeyFromPayload(payload), payload });
    },
    version,
  };
});

describe('PGlite', () => {
  let db: PGlite;
  const rows: RowsQuery = (text, params) => db.query<Record<string, unknown>>(text, params).then((r) => r.rows);
  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec(ENTERPRISES_SCHEMA_SQL);
  });
  afterAll(async () => {
    await db?.close();
  });

  registerConfigSourceSuite<Cfg>(runner, 'PGlite listen()', () => ({
    source: createPgliteInvalidationSource({ db, channel: CONFIG_CHANNEL }),
    loader: enterprisesLoader<Cfg>(rows),
    write: (key, v) => writeEnterprise(rows, key, v === undefined ? undefined : { v }),
    version,
  }));
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL', () => {
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const database = `cb_ccsuite_${randomBytes(5).toString('hex')}`;
  let pool: pg.Pool;
  const rows: RowsQuery = (text, params) => pool.query(text, params).then((r) => r.rows);

  beforeAll(async () => {
    await onAdmin(adminUrl, `CREATE DATABASE ${database}`);
    pool = new pg.Pool({ connectionString: withDatabase(adminUrl, database), max: 4 });
    await pool.query(ENTERPRISES_SCHEMA_SQL);
  });
  afterAll(async () => {
    await pool?.end();
    await onAdmin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  registerConfigSourceSuite<Cfg>(runner, 'PostgreSQL LISTEN', () => ({
    source: createPgListenInvalidationSource({
      connectionString: withDatabase(adminUrl, database),
      channel: CONFIG_CHANNEL,
    }),
    loader: enterprisesLoader<Cfg>(rows),
    write: (key, v) => writeEnterprise(rows, key, v === undefined ? undefined : { v }),
    version,
  }));
});
