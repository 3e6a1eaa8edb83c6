import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigCache, createPgliteInvalidationSource } from '../src/index.js';

type Cfg = { v: number };
const CHANNEL = 'integrations_config_changed';

async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('PGlite listen() invalidation (in-process)', () => {
  let db: PGlite;

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec(`
      CREATE TABLE enterprises (number text PRIMARY KEY, integrations_config jsonb NOT NULL);
      CREATE FUNCTION notify_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${CHANNEL}', json_build_object(
          'enterprise_number', COALESCE(NEW.number, OLD.number), 'integration_type', 'retailcrm')::text);
        RETURN NULL;
      END $$;
      CREATE TRIGGER enterprises_config_changed AFTER INSERT OR UPDATE OR DELETE ON enterprises
        FOR EACH ROW EXECUTE FUNCTION notify_config_changed();
      INSERT INTO enterprises VALUES ('0367', '{"v":1}'), ('0368', '{"v":1}');
    `);
  });

  afterAll(async () => {
    await db?.close();
  });

  it('a trigger NOTIFY invalidates the key; stop() unsubscribes', async () => {
    const cache = createConfigCache<Cfg>({
      loader: {
        async load(key) {
          const result = await db.query<{ integrations_config: Cfg }>(
            'SELECT integrations_config FROM enterprises WHERE number = $1',
            [key],
          );
          return result.rows[0]?.integrations_config;
        },
        async loadAll() {
          const result = await db.query<{ number: string; integrations_config: Cfg }>(
            'SELECT number, integrations_config FROM enterprises',
          );
          return result.rows.map((row) => [row.number, row.integrations_config] as const);
        },
      },
      invalidation: createPgliteInvalidationSource({ db, channel: CHANNEL }),
      refreshAfterMinMs: 600_000,
      refreshAfterMaxMs: 600_000,
    });
    await cache.start();
    expect(cache.metrics().listenerConnected).toBe(true);
    await expect(cache.get('0367')).resolves.toEqual({ v: 1 });
    await expect(cache.get('0368')).resolves.toEqual({ v: 1 });

    await db.query(`UPDATE enterprises SET integrations_config = '{"v":2}' WHERE number = '0367'`);
    await eventually(() => expect(cache.peek('0367')).toBeUndefined());
    expect(cache.peek('0368')).toEqual({ v: 1 });
    await expect(cache.get('0367')).resolves.toEqual({ v: 2 });

    await cache.close();
    expect(cache.metrics().listenerConnected).toBe(false);
  });
});
