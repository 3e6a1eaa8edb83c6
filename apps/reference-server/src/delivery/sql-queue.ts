import { randomBytes } from 'node:crypto';
import {
  type DeadLetterHandler,
  type DeliveryJob,
  type DeliveryQueue,
  describeError,
  type EnqueueResult,
  isRetryableError,
  type JobHandler,
  type QueueStats,
  TelephonyEventsError,
} from '@callbridge/telephony-events';
import type { SqlDriver } from '../storage/sql-driver.js';
import { createGroupCommitter, type GroupCommitter } from './group-commit.js';

export interface SqlQueueOptions {
  sql: SqlDriver;
  /** Queue name: several queues may share the table. */
  queue: string;
  /** Total attempts per job (default 5). */
  attempts?: number;
  /** Delay before attempt n+1 after attempt n failed (default 1 s, 4 s, 16 s, ... capped at 60 s). */
  retryDelayMs?: (attempt: number) => number;
  /** How long a finished (delivered or dead) id keeps rejecting duplicates (default 10 min); a waiting one always does. */
  dedupeWindowMs?: number;
  /** Jobs this process runs at once, across all enterprises (default 64). */
  concurrency?: number;
  /** A claimed job belongs to this process for this long; renewed while it runs (default 30 s). */
  leaseMs?: number;
  /** Idle poll for jobs enqueued by other instances or due for a retry (default 100 ms). */
  pollMs?: number;
  /** Enqueues arriving within this window share one INSERT (default 1 ms). */
  groupCommitMs?: number;
  /**
   * INSERT batches written at once (default 4 on PostgreSQL, whose pool overlaps them and shares one WAL flush among
   * concurrent commits; 1 on PGlite, a single connection where they would only queue).
   */
  groupCommitInFlight?: number;
  /** false: this instance only enqueues (default true). */
  worker?: boolean;
  now?: () => number;
}

interface ClaimedRow {
  id: string | number;
  job: DeliveryJob | string;
  attempt: number;
  steps: string[] | string;
}

const defaultRetryDelayMs = (attempt: number) => Math.min(60_000, 1000 * 4 ** (attempt - 1));
const parseJson = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/**
 * The durable default queue: a transactional outbox in the server's SQL database (PGlite or PostgreSQL).
 * `enqueue` resolves only after the job's row is committed (group commit: enqueues within ~1 ms share one
 * INSERT); workers claim due rows with `FOR UPDATE SKIP LOCKED` under a lease, so several instances share one
 * table without Redis and a crashed worker's jobs are claimed again once its lease expires. A job id stays
 * unique per queue for the dedupe window (the PBX's retry of an event already stored is a `duplicate`).
 */
export function createSqlQueue(options: SqlQueueOptions): DeliveryQueue & { readonly owner: string } {
  const { sql, queue } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = Math.max(1, options.attempts ?? 5);
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
  const concurrency = Math.max(1, options.concurrency ?? 256);
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const isWorker = options.worker ?? true;
  const owner = randomBytes(8).toString('hex');
  const stats: QueueStats = { enqueued: 0, duplicates: 0, completed: 0, failedAttempts: 0, deadLettered: 0 };

  let handler: JobHandler | undefined;
  let onDead: DeadLetterHandler | undefined;
  let closed = false;
  let claiming = false;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let leaseTimer: ReturnType<typeof setInterval> | undefined;
  let lastSweep = 0;
  const running = new Map<string, Promise<void>>();

  const inserter: GroupCommitter<DeliveryJob, EnqueueResult> = createGroupCommitter({
    windowMs: options.groupCommitMs ?? 1,
    maxInFlight: options.groupCommitInFlight ?? (sql.kind === 'postgres' ? 4 : 1),
    async commit(jobs) {
      const t = now();
      // The same id twice in one batch: the first is inserted, the rest are duplicates (one row per statement).
      const firsts = new Map<string, DeliveryJob>();
      for (const j of jobs) if (!firsts.has(j.id)) firsts.set(j.id, j);
      const rows = [...firsts.values()].map((j) => ({ job_id: j.id, enterprise_number: j.enterpriseNumber, job: j }));
      // One statement per batch; a row whose id is still inside its dedupe window (or not finished) is kept.
      // Rows go in job-id order: batches written concurrently then take their unique-key locks in one order, so two
      // batches holding the same event (a PBX retry) wait for each other instead of deadlocking.
      const inserted = await sql.query<{ job_id: string }>(
        `INSERT INTO delivery_outbox (queue, job_id, enterprise_number, job, run_at, dedupe_until)
         SELECT $1, x.job_id, x.enterprise_number, x.job, $2, $3
           FROM jsonb_to_recordset($4::jsonb) AS x(job_id text, enterprise_number text, job jsonb)
          ORDER BY x.job_id
         ON CONFLICT (queue, job_id) DO UPDATE SET
           enterprise_number = EXCLUDED.enterprise_number, job = EXCLUDED.job, status = 'ready', attempt = 1,
           steps = '[]'::jsonb, run_at = EXCLUDED.run_at, lease_owner = NULL, lease_until = NULL,
           dedupe_until = EXCLUDED.dedupe_until, last_error = NULL
         WHERE delivery_outbox.status <> 'ready' AND delivery_outbox.dedupe_until <= $2
         RETURNING job_id`,
        [queue, t, t + dedupeWindowMs, JSON.stringify(rows)],
      );
      const fresh = new Set(inserted.map((r) => r.job_id));
      return jobs.map((j) => (fresh.delete(j.id) ? 'enqueued' : 'duplicate'));
    },
  });

  // Worker-side writes are group-committed too: under load one statement marks many jobs' steps (or many jobs
  // done) instead of one statement per job, which leaves the database (and PGlite's thread) to the intake.
  // A job's step marks and its done mark never share a batch (it awaits the one before the other), and the lease
  // renewal skips rows these hold, so the worker's multi-row UPDATEs do not wait on each other in a cycle.
  const stepWriter = createGroupCommitter<{ id: string; steps: string[] }, void>({
    async commit(rows) {
      // Two marks of one job in a batch: UPDATE ... FROM would apply an arbitrary one; the later holds every step.
      const latest = new Map(rows.map((r) => [r.id, r]));
      await rerunOnConflict(() =>
        sql.query(
          `UPDATE delivery_outbox AS o SET steps = x.steps
             FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, steps jsonb)
            WHERE o.id = x.id AND o.lease_owner = $2`,
          [JSON.stringify([...latest.values()]), owner],
        ),
      );
      return rows.map(() => undefined);
    },
  });
  const doneWriter = createGroupCommitter<string, void>({
    async commit(ids) {
      await rerunOnConflict(() =>
        sql.query(
          `UPDATE delivery_outbox SET status = 'done', lease_owner = NULL, lease_until = NULL, dedupe_until = $3
            WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) AND lease_owner = $2`,
          [JSON.stringify(ids), owner, now() + dedupeWindowMs],
        ),
      );
      return ids.map(() => undefined);
    },
  });
  /** Claim when this many slots are free (or the worker is idle): one claim statement per few jobs, not per job. */
  const claimBatch = Math.max(1, Math.min(16, Math.floor(concurrency / 8)));
  const claimSoon = () => {
    if (concurrency - running.size >= claimBatch || running.size === 0) void claim();
    else schedulePoll(pollMs);
  };

  const schedulePoll = (delay: number) => {
    if (closed || !handler || pollTimer) return;
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      void claim();
    }, delay);
    pollTimer.unref?.();
  };

  const claim = async (): Promise<void> => {
    if (closed || !handler || claiming) return;
    const free = concurrency - running.size;
    if (free <= 0) return;
    claiming = true;
    let claimed: ClaimedRow[] = [];
    try {
      const t = now();
      claimed = await sql.query<ClaimedRow>(
        `UPDATE delivery_outbox SET lease_owner = $2, lease_until = $3
          WHERE id IN (
            SELECT id FROM delivery_outbox
             WHERE queue = $1 AND status = 'ready' AND run_at <= $4 AND (lease_until IS NULL OR lease_until < $4)
             ORDER BY run_at, id LIMIT $5
             FOR UPDATE SKIP LOCKED)
          RETURNING id, job, attempt, steps`,
        [queue, owner, t + leaseMs, t, free],
      );
      if (t - lastSweep > 60_000) {
        lastSweep = t;
        // Finished rows are only kept for their dedupe window.
        await sql.query(`DELETE FROM delivery_outbox WHERE queue = $1 AND status = 'done' AND dedupe_until < $2`, [
          queue,
          t,
        ]);
      }
    } catch {
      // Storage down: try again later; the rows are still there.
    } finally {
      claiming = false;
    }
    for (const row of claimed) run(row);
    // A full batch means more may be due right away.
    if (claimed.length > 0 && claimed.length === free) setImmediate(() => void claim());
    else schedulePoll(pollMs);
  };

  const run = (row: ClaimedRow) => {
    const id = String(row.id);
    const job = parseJson(row.job);
    const steps = new Set(parseJson(row.steps));
    const context = {
      attempt: row.attempt,
      isStepDone: (step: string) => steps.has(step),
      async markStepDone(step: string) {
        steps.add(step);
        await stepWriter.submit({ id, steps: [...steps] });
      },
    };
    const task = settle(id, job, context)
      .catch(() => undefined) // Storage down while settling: the lease expires and the job runs again.
      .finally(() => {
        running.delete(id);
        notifyIdle();
        claimSoon();
      });
    running.set(id, task);
  };

  const settle = async (
    id: string,
    job: DeliveryJob,
    context: { attempt: number; isStepDone(s: string): boolean; markStepDone(s: string): Promise<void> },
  ) => {
    try {
      await (handler as JobHandler)(job, context);
      stats.completed++;
      await doneWriter.submit(id);
      return;
    } catch (error) {
      stats.failedAttempts++;
      const info = describeError(error);
      if (isRetryableError(error) && context.attempt < maxAttempts && !closed) {
        await sql.query(
          `UPDATE delivery_outbox SET attempt = attempt + 1, run_at = $3, lease_owner = NULL, lease_until = NULL,
             last_error = $4 WHERE id = $1 AND lease_owner = $2`,
          [id, owner, now() + Math.max(0, retryDelayMs(context.attempt)), info.message],
        );
        return;
      }
      if (isRetryableError(error) && context.attempt < maxAttempts) {
        // Closing: hand the job back (it runs again after a restart or on another instance), do not give up.
        await sql.query(
          `UPDATE delivery_outbox SET attempt = attempt + 1, lease_owner = NULL, lease_until = NULL, last_error = $3
            WHERE id = $1 AND lease_owner = $2`,
          [id, owner, info.message],
        );
        return;
      }
      stats.deadLettered++;
      try {
        await onDead?.({ job, error: info, attempts: context.attempt, failedAt: new Date(now()) });
      } catch {
        // The handler owns reporting its own failures; a throwing dead-letter hook must not kill the worker.
      }
      await sql.query(
        `UPDATE delivery_outbox SET status = 'dead', lease_owner = NULL, lease_until = NULL, last_error = $3,
           dedupe_until = $4 WHERE id = $1 AND lease_owner = $2`,
        [id, owner, info.message, now() + dedupeWindowMs],
      );
    }
  };

  let idleWaiters: Array<() => void> = [];
  const notifyIdle = () => {
    if (idleWaiters.length === 0) return;
    void isIdle().then((idle) => {
      if (!idle) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    });
  };
  const isIdle = async () => {
    if (inserter.pending() > 0 || running.size > 0) return false;
    const rows = await sql
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM delivery_outbox WHERE queue = $1 AND status = 'ready'`, [
        queue,
      ])
      .catch(() => [{ n: 1 }]);
    return Number(rows[0]?.n ?? 0) === 0;
  };

  return {
    owner,
    async enqueue(job) {
      if (closed) throw new TelephonyEventsError('queue_closed', 'the SQL queue is closed', { isRetryable: true });
      const result = await inserter.submit(job);
      if (result === 'duplicate') stats.duplicates++;
      else {
        stats.enqueued++;
        // Our own worker need not wait for the next poll.
        if (handler && !closed) queueMicrotask(claimSoon);
      }
      return result;
    },
    async start(run, dead) {
      onDead = dead;
      if (!isWorker) return;
      handler = run;
      leaseTimer = setInterval(
        () => {
          if (running.size === 0) return;
          // Jobs still running keep their lease; a crashed process stops renewing and loses them. By id (primary
          // key): the table keeps finished rows for their dedupe window, a scan by owner would read them all.
          sql
            .query(
              // SKIP LOCKED: a row a step or done write holds right now is renewed next time (the lease has two more
              // renewals to go); waiting for it could close a lock cycle with that write (PostgreSQL answered 40P01).
              `UPDATE delivery_outbox SET lease_until = $2
                WHERE id IN (SELECT id FROM delivery_outbox
                              WHERE id IN (SELECT jsonb_array_elements_text($3::jsonb)::bigint) AND lease_owner = $1
                                AND status = 'ready'
                                FOR UPDATE SKIP LOCKED)`,
              [owner, now() + leaseMs, JSON.stringify([...running.keys()])],
            )
            .catch(() => undefined);
        },
        Math.max(50, Math.floor(leaseMs / 3)),
      );
      leaseTimer.unref?.();
      void claim();
    },
    async onIdle() {
      while (!(await isIdle())) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          setTimeout(resolve, pollMs).unref?.();
        });
      }
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (leaseTimer) clearInterval(leaseTimer);
      await inserter.close();
      await Promise.allSettled([...running.values()]);
      await Promise.allSettled([stepWriter.close(), doneWriter.close()]);
    },
  };
}

/** PostgreSQL aborted the statement to break a lock cycle (40P01) or a serialization conflict (40001): run it again. */
async function rerunOnConflict<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (attempt >= attempts || (code !== '40P01' && code !== '40001')) throw error;
    }
  }
}
