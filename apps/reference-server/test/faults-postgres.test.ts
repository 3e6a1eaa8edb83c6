import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { createTestDatabase } from './helpers.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { getStats, startConfiguredServer, waitForEnablement } from './support/in-process.js';

const pgUrl = process.env.TEST_DATABASE_URL;

const setEnabled = (enabled: boolean) =>
  `UPDATE enterprises SET integrations_config = jsonb_set(integrations_config, '{retailcrm,enabled}', '${enabled}')
   WHERE number = '0367'`;

describe.skipIf(!pgUrl)('PostgreSQL LISTEN connection killed (pg_terminate_backend)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let crm: FakeCrmServer;
  let srv: RunningServer;
  let dbName: string;
  /** Another instance's connection: writes straight to the table, the trigger sends NOTIFY. */
  let writer: pg.Client;
  let admin: pg.Client;

  beforeAll(async () => {
    [db, crm] = await Promise.all([createTestDatabase(pgUrl as string), startFakeCrmServer()]);
    dbName = new URL(db.url).pathname.slice(1);
    srv = await startConfiguredServer(crm, { DATABASE_URL: db.url });
    writer = new pg.Client({ connectionString: db.url });
    admin = new pg.Client({ connectionString: pgUrl });
    await Promise.all([writer.connect(), admin.connect()]);
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await srv?.close();
    await writer?.end().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await crm?.close();
    await db?.drop();
  });

  it('reconnects, resyncs a change made while it was gone, and sees later changes within a second', async () => {
    const before = await getStats(srv.url);
    expect(before.config_cache.listenerConnected).toBe(true);
    expect(before.enablement_cache.listenerConnected).toBe(true);

    // Keep the listeners out until the change below is committed: its NOTIFY reaches nobody.
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    const killed = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'`,
      [dbName],
    );
    expect(killed.rowCount).toBe(3); // config cache, enablement cache, PBX token cache
    await expect
      .poll(async () => (await getStats(srv.url)).enablement_cache.listenerConnected, { timeout: 5000 })
      .toBe(false);
    await writer.query(setEnabled(false));
    await new Promise((r) => setTimeout(r, 300));
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);

    await expect
      .poll(
        async () => {
          const s = await getStats(srv.url);
          return s.config_cache.listenerConnected && s.enablement_cache.listenerConnected;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const after = await getStats(srv.url);
    expect(after.enablement_cache.resyncs).toBeGreaterThan(before.enablement_cache.resyncs);
    // The resync dropped what the lost NOTIFY would have invalidated.
    await waitForEnablement(srv.url, false, 1000);

    // And the new LISTEN connection works.
    await writer.query(setEnabled(true));
    expect(await waitForEnablement(srv.url, true, 1000)).toBeLessThan(1000);
    expect((await srv.configCache.get('0367'))?.retailcrm?.enabled).toBe(true);
  });
});
