import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { createSqlQueue } from '../src/delivery/sql-queue.js';
import { createPgliteStorage } from '../src/storage/pglite.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { createTestDatabase } from '../test/helpers.js';
import { hangupEvent } from '../test/support/fixtures.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const dataDir = mkdtempSync(join(tmpdir(), 'cb-outbox-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `clients` loops, each enqueueing its next job as soon as the previous one is committed (no HTTP, no delivery). */
async function closedLoop(storage: SqlStorage, clients: number) {
  const q = createSqlQueue({ sql: storage.sql, queue: `b${clients}`, worker: false });
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const run = `${Date.now()}`;
  const lat: number[] = [];
  const elu0 = performance.eventLoopUtilization();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const id = `${run}.${n++}`;
        await q.enqueue({
          id,
          enterpriseNumber: '0367',
          crm: 'retailcrm',
          event: hangupEvent(id) as never,
          receivedAt: Date.now(),
        });
        lat.push(performance.now() - t);
      }
    }),
  );
  const elu = performance.eventLoopUtilization(elu0);
  await q.close();
  lat.sort((a, b) => a - b);
  return {
    perSec: Math.round(lat.length / seconds),
    p99: lat[Math.floor(lat.length * 0.99)]?.toFixed(1),
    elu: elu.utilization.toFixed(2),
  };
}

it('outbox enqueue throughput (no HTTP, no delivery)', async () => {
  const { storage } = await createPgliteStorage(dataDir);
  for (const c of [1, 10, 50]) console.log('pglite clients', c, await closedLoop(storage, c));
  await storage.close();
  if (process.env.TEST_DATABASE_URL) {
    const db = await createTestDatabase(process.env.TEST_DATABASE_URL);
    const pgs = await createPostgresStorage(db.url);
    for (const c of [1, 10, 50]) console.log('postgres clients', c, await closedLoop(pgs, c));
    await pgs.close();
    await db.drop();
  }
});
