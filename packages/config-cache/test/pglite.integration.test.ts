import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigCache, createPgliteInvalidationSource } from '../src/index.js';
import { CONFIG_CHANNEL, ENTERPRISES_SCHEMA_SQL, enterprisesLoader, eventually } from './helpers.js';

type Cfg = { v: number };
const CHANNEL = CONFIG_CHANNEL;

describe('PGlite listen() invalidation (in-process)', () => {
  let db: PGlite;

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec(ENTERPRISES_SCHEMA_SQL);
    await db.exec(`INSERT INTO enterprises VALUES ('0367', '{"v":1}'), ('0368', '{"v":1}')`);
  });

  afterAll(async () => {
    await db?.close();
  });

  it('a trigger NOTIFY invalidates the key; stop() unsubscribes', async () => {
    const cache = createConfigCache<Cfg>({
      loader: enterprisesLoader<Cfg>((text, params) =>
        db.query<Record<string, unknown>>(text, params).then((result) => result.rows),
      ),
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
