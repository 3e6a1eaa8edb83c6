import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../src/queue/in-process-queue.js';
import { createRedisQueue } from '../src/queue/redis-queue.js';
import type { DeadLetter, DeliveryJob, DeliveryQueue, QueueRetryOptions } from '../src/queue/types.js';
import { redisTestPrefix } from './redis-prefix.js';

type QueueFactory = (options: QueueRetryOptions) => DeliveryQueue;

const job = (id: string): DeliveryJob => ({
  id,
  enterpriseNumber: '0367',
  crm: 'retailcrm',
  receivedAt: 1_700_000_000_000,
  event: { enterprise_number: '0367', event_type: 'hangup', payload: { UniqueId: id } },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function queueContract(name: string, factory: QueueFactory) {
  describe(`DeliveryQueue contract: ${name}`, () => {
    const open: DeliveryQueue[] = [];
    const make = (options: QueueRetryOptions = {}) => {
      const queue = factory({ attempts: 3, retryDelayMs: () => 10, ...options });
      open.push(queue);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('runs a job once and reports a duplicate id inside the window; accepts it again after the window', async () => {
      const queue = make({ dedupeWindowMs: 300 });
      const runs: string[] = [];
      await queue.start(
        async (j, ctx) => {
          runs.push(`${j.id}#${ctx.attempt}`);
        },
        () => {},
      );
      expect(await queue.enqueue(job('a|1'))).toBe('enqueued');
      expect(await queue.enqueue(job('a|1'))).toBe('duplicate');
      expect(await queue.enqueue(job('a|2'))).toBe('enqueued');
      await queue.onIdle();
      expect(await queue.enqueue(job('a|1'))).toBe('duplicate');
      await sleep(350);
      expect(await queue.enqueue(job('a|1'))).toBe('enqueued');
      await queue.onIdle();
      expect(runs.sort()).toEqual(['a|1#1', 'a|1#1', 'a|2#1']);
      expect(queue.stats()).toMatchObject({ enqueued: 3, duplicates: 2, completed: 3, deadLettered: 0 });
    });

    it('retries a retryable failure and keeps completed steps across attempts', async () => {
      const queue = make();
      const calls: string[] = [];
      const dead: DeadLetter[] = [];
      await queue.start(
        async (_job, ctx) => {
          if (!ctx.isStepDone('event')) {
            calls.push(`event#${ctx.attempt}`);
            await ctx.markStepDone('event');
          }
          calls.push(`upload#${ctx.attempt}`);
          if (ctx.attempt < 3) throw new Error('503 from CRM');
        },
        (entry) => {
          dead.push(entry);
        },
      );
      await queue.enqueue(job('b|1'));
      await queue.onIdle();
      expect(calls).toEqual(['event#1', 'upload#1', 'upload#2', 'upload#3']);
      expect(dead).toEqual([]);
      expect(queue.stats()).toMatchObject({ completed: 1, failedAttempts: 2 });
    });

    it('dead-letters once after the last attempt, with the error', async () => {
      const queue = make();
      const dead: DeadLetter[] = [];
      let runs = 0;
      await queue.start(
        async () => {
          runs++;
          throw Object.assign(new Error('still down'), { code: 'rate_limited', status: 503 });
        },
        (entry) => {
          dead.push(entry);
        },
      );
      await queue.enqueue(job('c|1'));
      await queue.onIdle();
      expect(runs).toBe(3);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        job: { id: 'c|1', enterpriseNumber: '0367' },
        attempts: 3,
        error: { code: 'rate_limited', status: 503, message: 'still down', isRetryable: true },
      });
      expect(queue.stats().deadLettered).toBe(1);
    });

    it('dead-letters a non-retryable error after one attempt', async () => {
      const queue = make();
      const dead: DeadLetter[] = [];
      let runs = 0;
      await queue.start(
        async () => {
          runs++;
          throw Object.assign(new Error('bad request'), { isRetryable: false, status: 400 });
        },
        (entry) => {
          dead.push(entry);
        },
      );
      await queue.enqueue(job('d|1'));
      await queue.onIdle();
      expect(runs).toBe(1);
      expect(dead).toMatchObject([{ attempts: 1, error: { status: 400, isRetryable: false } }]);
    });
  });
}

queueContract('in-process', (options) => createInProcessQueue(options));

describe('in-process queue: close()', () => {
  it('hands jobs that will not run (waiting, delayed, failing while closing) to the dead letters, not dropping them', async () => {
    const queue = createInProcessQueue({ attempts: 3, retryDelayMs: () => 60_000, concurrency: 1 });
    const dead: DeadLetter[] = [];
    let release!: () => void;
    await queue.start(
      async (j) => {
        if (j.id === 'c|retry') throw new Error('503');
        await new Promise<void>((resolve) => (release = resolve));
        if (j.id === 'c|running') throw new Error('503 while closing');
      },
      (entry) => {
        dead.push(entry);
      },
    );
    await queue.enqueue(job('c|retry')); // fails once, then waits 60 s for its retry
    await sleep(5);
    await queue.enqueue(job('c|running'));
    await queue.enqueue(job('c|waiting'));
    await sleep(5);
    const closing = queue.close();
    release();
    await closing;
    expect(dead.map((d) => [d.job.id, d.error.code, d.attempts]).sort()).toEqual([
      ['c|retry', 'queue_closed', 1],
      ['c|running', 'queue_closed', 1],
      ['c|waiting', 'queue_closed', 0],
    ]);
    expect(queue.stats()).toMatchObject({ completed: 0, deadLettered: 3 });
    await expect(queue.enqueue(job('c|late'))).rejects.toMatchObject({ code: 'queue_closed' });
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('redis', () => {
  const prefix = redisTestPrefix(redisUrl);
  queueContract('redis (BullMQ)', (options) =>
    createRedisQueue({
      connection: redisUrl as string,
      prefix,
      queueName: `q${randomBytes(3).toString('hex')}`,
      ...options,
    }),
  );

  it('a job survives its producer: a second instance (worker) runs what the first enqueued', async () => {
    const queueName = `q${randomBytes(3).toString('hex')}`;
    const producer = createRedisQueue({ connection: redisUrl as string, prefix, queueName, worker: false });
    await producer.start(
      async () => {
        throw new Error('producer must not run jobs');
      },
      () => {},
    );
    await producer.enqueue(job('e|1'));
    await producer.close(); // the producing process is gone
    const consumer = createRedisQueue({ connection: redisUrl as string, prefix, queueName });
    const runs: string[] = [];
    await consumer.start(
      async (j) => {
        runs.push(j.id);
      },
      () => {},
    );
    await consumer.onIdle();
    await consumer.close();
    expect(runs).toEqual(['e|1']);
  });

  it('a job whose worker dies mid-delivery is run again by another instance (stalled job recovery)', async () => {
    const queueName = `q${randomBytes(3).toString('hex')}`;
    const options = { connection: redisUrl as string, prefix, queueName, lockDurationMs: 300, stalledIntervalMs: 100 };
    const crashing = createRedisQueue(options);
    let started = false;
    await crashing.start(
      () => {
        started = true;
        return new Promise<void>(() => {}); // the process "dies" before this ever settles
      },
      () => {},
    );
    await crashing.enqueue(job('f|1'));
    while (!started) await sleep(10);
    await crashing.closeNow();

    const survivor = createRedisQueue(options);
    const runs: string[] = [];
    await survivor.start(
      async (j, ctx) => {
        runs.push(`${j.id}#${ctx.attempt}`);
      },
      () => {},
    );
    const deadline = Date.now() + 5000;
    while (runs.length === 0 && Date.now() < deadline) await sleep(20);
    await survivor.onIdle();
    await survivor.close();
    expect(runs).toEqual(['f|1#1']);
  });
});
