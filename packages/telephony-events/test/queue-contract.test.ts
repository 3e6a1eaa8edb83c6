import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../src/queue/in-process-queue.js';
import { createRedisQueue } from '../src/queue/redis-queue.js';
import type { DeadLetter } from '../src/queue/types.js';
import { registerDeliveryQueueSuite, sampleDeliveryJob } from '../src/testing/queue-suite.js';
import { redisTestPrefix } from './redis-prefix.js';

const suiteApi = { describe, it, expect, afterEach };

const job = sampleDeliveryJob;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

registerDeliveryQueueSuite(suiteApi, 'in-process', (options) => createInProcessQueue(options));

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
  registerDeliveryQueueSuite(suiteApi, 'redis (BullMQ)', (options) =>
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

  it('an enqueue that answered an error but landed keeps its id: the PBX retry is a duplicate, one delivery', async () => {
    const queueName = `q${randomBytes(3).toString('hex')}`;
    const queue = createRedisQueue({ connection: redisUrl as string, prefix, queueName, enqueueTimeoutMs: 100 });
    const admin = new Redis(redisUrl as string);
    try {
      const runs: string[] = [];
      await queue.start(
        async (j) => {
          runs.push(j.id);
        },
        () => {},
      );
      // Redis stalls writes past the enqueue deadline (as around a restart or failover), then stores them anyway.
      await admin.call('CLIENT', 'PAUSE', '400', 'WRITE');
      await expect(queue.enqueue(job('g|1'))).rejects.toMatchObject({ code: 'queue_unavailable' });
      await sleep(500);
      // The PBX retries the event it got an error for.
      expect(await queue.enqueue(job('g|1'))).toBe('duplicate');
      const deadline = Date.now() + 3000;
      while (runs.length === 0 && Date.now() < deadline) await sleep(20);
      await queue.onIdle();
      expect(runs).toEqual(['g|1']);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
      await queue.close();
    }
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
