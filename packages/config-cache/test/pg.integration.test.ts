import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigCache, createConfigCache, createPgListenInvalidationSource } from '../src/index.js';
import { CONFIG_CHANNEL, ENTERPRISES_SCHEMA_SQL, enterprisesLoader, eventually, withDatabase } from './helpers.js';
import { onAdmin } from './pg-admin.js';

const CHANNEL = CONFIG_CHANNEL;
type Cfg = { v: number };

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL LISTEN/NOTIFY invalidation (real server)', () => {
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const database = `cb_cc_${randomBytes(5).toString('hex')}`;
  let url: string;
  let pool: pg.Pool;
  let caches: Array<ConfigCache<Cfg>> = [];

  const loader = enterprisesLoader<Cfg>((text, params) => pool.query(text, params).then((result) => result.rows));

  const setValue = (number: string, v: number) =>
    pool.query(
      `INSERT INTO enterprises (number, integrations_config) VALUES ($1, $2)
       ON CONFLICT (number) DO UPDATE SET integrations_config = EXCLUDED.integrations_config`,
      [number, { v }],
    );

  function cacheWithListener(applicationName: string): ConfigCache<Cfg> {
    const cache = createConfigCache<Cfg>({
      name: applicationName,
      loader,
      invalidation: createPgListenInvalidationSource({
        connectionString: withDatabase(adminUrl, database, applicationName),
        channel: CHANNEL,
        backoff: { minMs: 1_500, maxMs: 3_000 },
        heartbeatIntervalMs: 1_000,
        heartbeatTimeoutMs: 2_000,
      }),
      // Long TTLs: only the invalidation path can make a change visible within the test.
      refreshAfterMinMs: 600_000,
      refreshAfterMaxMs: 600_000,
    });
    caches.push(cache);
    return cache;
  }

  beforeAll(async () => {
    await onAdmin(adminUrl, `CREATE DATABASE ${database}`);
    url = withDatabase(adminUrl, database);
    pool = new pg.Pool({ connectionString: url, max: 4 });
    await pool.query(ENTERPRISES_SCHEMA_SQL);
  });

  afterEach(async () => {
    for (const cache of caches) await cache.close();
    caches = [];
    await pool.query('DELETE FROM enterprises');
  });

  afterAll(async () => {
    await pool?.end();
    await onAdmin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('a NOTIFY from the trigger reaches two cache instances, only after COMMIT', async () => {
    await setValue('0367', 1);
    await setValue('0368', 1);
    const first = cacheWithListener(`cb_a_${database}`);
    const second = cacheWithListener(`cb_b_${database}`);
    await first.start();
    await second.start();
    expect(first.metrics().listenerConnected).toBe(true);
    for (const cache of [first, second]) {
      await expect(cache.get('0367')).resolves.toEqual({ v: 1 });
      await expect(cache.get('0368')).resolves.toEqual({ v: 1 });
    }

    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query(`UPDATE enterprises SET integrations_config = '{"v":2}' WHERE number = '0367'`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Not committed yet: nobody was told, and nobody should have been.
      expect(first.peek('0367')).toEqual({ v: 1 });
      expect(second.peek('0367')).toEqual({ v: 1 });
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }

    for (const cache of [first, second]) {
      await eventually(() => expect(cache.peek('0367')).toBeUndefined());
      await expect(cache.get('0367')).resolves.toEqual({ v: 2 });
      expect(cache.peek('0368')).toEqual({ v: 1 }); // other tenants untouched
      expect(cache.metrics().invalidations).toBe(1);
    }
  });

  it('pg_terminate_backend on the listener: reconnect, resync, no stale value survives', async () => {
    await setValue('0367', 1);
    await setValue('0368', 1);
    const applicationName = `cb_kill_${database}`;
    const cache = cacheWithListener(applicationName);
    await cache.start();
    await expect(cache.get('0367')).resolves.toEqual({ v: 1 });
    await expect(cache.get('0368')).resolves.toEqual({ v: 1 });

    const killed = await pool.query<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    expect(killed.rows).toEqual([{ ok: true }]);
    await eventually(() => expect(cache.metrics().listenerConnected).toBe(false));

    // Changed while nobody listens: this NOTIFY is lost for good.
    await setValue('0367', 2);
    await setValue('0369', 1);
    expect(cache.peek('0367')).toEqual({ v: 1 });
    expect(cache.metrics().resyncs).toBe(0);

    await eventually(() => {
      expect(cache.metrics().listenerConnected).toBe(true);
      expect(cache.metrics().resyncs).toBe(1);
    });
    // From the resync on, the stale value is gone, and the full reload brings everything back.
    expect(cache.peek('0367')).not.toEqual({ v: 1 });
    await eventually(() => expect(cache.metrics().fullRefreshes).toBe(1));
    expect(cache.peek('0367')).toEqual({ v: 2 });
    expect(cache.keys().sort()).toEqual(['0367', '0368', '0369']);

    // The new connection receives notifications again.
    await setValue('0368', 5);
    await eventually(() => expect(cache.peek('0368')).toBeUndefined());
    await expect(cache.get('0368')).resolves.toEqual({ v: 5 });
  });
});
