import { randomBytes } from 'node:crypto';
import type { DeliveryJob } from '@callbridge/telephony-events';
import { registerDeliveryQueueSuite } from '@callbridge/telephony-events/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSqlQueue } from '../src/delivery/sql-queue.js';
import { createPgliteStorage } from '../src/storage/pglite.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { Storage } from '../src/storage/types.js';
import { createTestDatabase } from './helpers.js';

const suiteApi = { describe, it, expect, afterEach };
const pgUrl = process.env.TEST_DATABASE_URL;
const job = (id: string, enterprise = '0367'): DeliveryJob => ({
  id,
  enterpriseNumber: enterprise,
  crm: 'retailcrm',
  receivedAt: 1_700_000_000_000,
  event: { enterprise_number: enterprise, event_type: 'hangup', payload: { UniqueId: id } },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const queueName = () => `q${randomBytes(3).toString('hex')}`;

describe('SQL outbox queue on PGlite', () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = (await createPgliteStorage(undefined)).storage;
  }, 90_000);
  afterAll(async () => {
    await storage.close();
  });

  registerDeliveryQueueSuite(
    suiteApi,
    'SQL outbox (PGlite)',
    (options) => createSqlQueue({ sql: storage.sql, queue: queueName(), pollMs: 10, ...options }),
    { dedupeWindowMs: 1500 },
  );

  it('group commit: concurrent enqueues share INSERTs, and each is answered only after its row is committed', async () => {
    let statements = 0;
    const counting = {
      ...storage.sql,
      query: <T>(sql: string, params?: readonly unknown[]) => {
        if (sql.includes('INSERT INTO delivery_outbox')) statements++;
        return storage.sql.query<T>(sql, params);
      },
    };
    const name = queueName();
    const queue = createSqlQueue({ sql: counting, queue: name, worker: false });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => queue.enqueue(job(`g|${i % 150}`))));
    expect(results.filter((r) => r === 'enqueued')).toHaveLength(150);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(50);
    expect(statements).toBeLessThanOrEqual(3);
    const rows = await storage.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_outbox WHERE queue = $1',
      [name],
    );
    expect(rows[0]?.n).toBe(150);
    await queue.close();
  });

  it("a crashed worker's job is claimed again by another instance once its lease expires, and runs once there", async () => {
    const name = queueName();
    const crashing = createSqlQueue({ sql: storage.sql, queue: name, leaseMs: 200, pollMs: 20 });
    let started = false;
    await crashing.start(
      () => {
        started = true;
        return new Promise<void>(() => {}); // the process "dies" mid-delivery
      },
      () => {},
    );
    await crashing.enqueue(job('f|1'));
    while (!started) await sleep(10);
    // Simulated crash: the lease is no longer renewed (close would wait for the job forever).
    void crashing.close();
    const survivor = createSqlQueue({ sql: storage.sql, queue: name, leaseMs: 200, pollMs: 20 });
    const runs: string[] = [];
    await survivor.start(
      async (j, ctx) => {
        runs.push(`${j.id}#${ctx.attempt}`);
      },
      () => {},
    );
    const until = Date.now() + 5000;
    while (runs.length === 0 && Date.now() < until) await sleep(20);
    await survivor.onIdle();
    await sleep(300);
    expect(runs).toEqual(['f|1#1']);
    await survivor.close();
  });

  it('while one instance runs a job, a second instance sharing the table does not (SKIP LOCKED + lease)', async () => {
    const name = queueName();
    const runs: string[] = [];
    const handler = async (j: DeliveryJob) => {
      runs.push(j.id);
      await sleep(30);
    };
    const a = createSqlQueue({ sql: storage.sql, queue: name, pollMs: 5, concurrency: 4 });
    const b = createSqlQueue({ sql: storage.sql, queue: name, pollMs: 5, concurrency: 4 });
    await a.start(handler, () => {});
    await b.start(handler, () => {});
    await Promise.all(Array.from({ length: 40 }, (_, i) => a.enqueue(job(`s|${i}`, String(i % 5)))));
    await a.onIdle();
    await b.onIdle();
    expect(runs.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `s|${i}`).sort());
    expect(a.stats().completed + b.stats().completed).toBe(40);
    expect(b.stats().completed).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('storage down: enqueue rejects (the caller answers 503) instead of answering as if stored', async () => {
    const broken = {
      ...storage.sql,
      query: async () => {
        throw new Error('connection refused');
      },
    };
    const queue = createSqlQueue({ sql: broken, queue: queueName(), worker: false });
    await expect(queue.enqueue(job('x|1'))).rejects.toThrow('connection refused');
    await queue.close();
  });
});

describe.skipIf(!pgUrl)('SQL outbox queue on PostgreSQL', () => {
  let storage: Storage;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase(pgUrl as string);
    storage = await createPostgresStorage(db.url);
  });
  afterAll(async () => {
    await storage?.close();
    await db?.drop();
  });
  registerDeliveryQueueSuite(
    suiteApi,
    'SQL outbox (PostgreSQL)',
    (options) => createSqlQueue({ sql: storage.sql, queue: queueName(), pollMs: 10, ...options }),
    { dedupeWindowMs: 1500 },
  );

  it('INSERT batches written at once that hold the same events in opposite orders: each event stored once, no deadlock', async () => {
    const name = queueName();
    let inFlight = 0;
    let mostAtOnce = 0;
    const counting = {
      ...storage.sql,
      query: async <T>(sql: string, params?: readonly unknown[]) => {
        if (!sql.includes('INSERT INTO delivery_outbox')) return storage.sql.query<T>(sql, params);
        mostAtOnce = Math.max(mostAtOnce, ++inFlight);
        try {
          return await storage.sql.query<T>(sql, params);
        } finally {
          inFlight--;
        }
      },
    };
    const queue = createSqlQueue({
      sql: counting,
      queue: name,
      worker: false,
      groupCommitInFlight: 4,
      groupCommitMs: 0,
    });
    // Batches large enough that each INSERT is still running when the next wave's batch starts.
    const ids = Array.from({ length: 400 }, (_, i) => `dl|${i}`);
    // Eight waves a timer tick apart (each its own batch), alternately in forward and reverse order.
    const waves = await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        await sleep(w);
        return Promise.all((w % 2 ? [...ids].reverse() : ids).map((id) => queue.enqueue(job(id))));
      }),
    );
    const results = waves.flat();
    expect(results.filter((r) => r === 'enqueued')).toHaveLength(400);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(2800);
    expect(mostAtOnce).toBeGreaterThan(1);
    const rows = await storage.sql.query<{ n: number }>(
      'SELECT count(DISTINCT job_id)::int AS n FROM delivery_outbox WHERE queue = $1',
      [name],
    );
    expect(rows[0]?.n).toBe(400);
    await queue.close();
  });

  it('a busy worker: two step marks of one job in one batch both stick; marks, done marks and lease renewals of hundreds of jobs overlap without error', async () => {
    const name = queueName();
    // Leases renewed every 100 ms while 300 jobs mark steps: the renewal, step and done UPDATEs overlap constantly.
    const queue = createSqlQueue({ sql: storage.sql, queue: name, pollMs: 10, leaseMs: 300, concurrency: 256 });
    const steps = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(Array.from({ length: 300 }, (_, i) => queue.enqueue(job(`busy|${i}`))));
    await queue.start(
      async (_job, context) => {
        for (let i = 0; i < steps.length; i += 2) {
          // Two marks of one job at once: they share a batch, the row must end with both.
          await Promise.all([context.markStepDone(steps[i] as string), context.markStepDone(steps[i + 1] as string)]);
          await sleep(Math.random() * 20);
        }
      },
      async () => undefined,
    );
    await queue.onIdle();
    expect(queue.stats()).toMatchObject({ completed: 300, failedAttempts: 0, deadLettered: 0 });
    const rows = await storage.sql.query<{ steps: string[] }>(`SELECT steps FROM delivery_outbox WHERE queue = $1`, [
      name,
    ]);
    expect(rows).toHaveLength(300);
    for (const row of rows) expect([...row.steps].sort()).toEqual(steps);
    await queue.close();
  }, 60_000);
});
