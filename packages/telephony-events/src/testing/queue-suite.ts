import type { DeadLetter, DeliveryJob, DeliveryQueue, QueueRetryOptions } from '../queue/types.js';

/** The parts of vitest (or jest) the suite uses; passed in so this module does not depend on a test runner. */
export interface QueueSuiteApi {
  /** Groups the suite's tests under `name`. */
  describe(name: string, fn: () => void): void;
  /** Declares one test, with an optional timeout in ms. */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The runner's `expect` (jest-style matchers: `toBe`, `toEqual`, `toMatchObject`, `toHaveLength`). */
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic.
  expect: (value: unknown) => any;
  /** Registers a cleanup run after each test (the suite closes its queues there). */
  afterEach(fn: () => Promise<void>): void;
}

/** Makes a fresh queue for one test with the given retry options. */
export type QueueFactory = (options: QueueRetryOptions) => DeliveryQueue;

/** A hangup delivery job for enterprise 0367 with this id (the suite's and queue tests' sample job). */
export const sampleDeliveryJob = (id: string): DeliveryJob => ({
  id,
  enterpriseNumber: '0367',
  crm: 'retailcrm',
  receivedAt: 1_700_000_000_000,
  event: { enterprise_number: '0367', event_type: 'hangup', payload: { UniqueId: id } },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The `DeliveryQueue` conformance suite: dedupe window, duplicate ids enqueued at once, retries keeping finished steps, one dead letter after the
 * last attempt or a non-retryable error. Run it against every queue implementation:
 * `registerDeliveryQueueSuite({describe, it, expect, afterEach}, 'mine', (options) => createMyQueue(options))`.
 */
export function registerDeliveryQueueSuite(
  t: QueueSuiteApi,
  name: string,
  factory: QueueFactory,
  /** `dedupeWindowMs`: the window under test (default 300 ms); a queue behind a database may need more. */
  suite: { dedupeWindowMs?: number } = {},
): void {
  const windowMs = suite.dedupeWindowMs ?? 300;
  const { describe, it, expect, afterEach } = t;
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
      const queue = make({ dedupeWindowMs: windowMs });
      const runs: string[] = [];
      await queue.start(
        async (j, ctx) => {
          runs.push(`${j.id}#${ctx.attempt}`);
        },
        () => {},
      );
      expect(await queue.enqueue(sampleDeliveryJob('a|1'))).toBe('enqueued');
      expect(await queue.enqueue(sampleDeliveryJob('a|1'))).toBe('duplicate');
      expect(await queue.enqueue(sampleDeliveryJob('a|2'))).toBe('enqueued');
      await queue.onIdle();
      expect(await queue.enqueue(sampleDeliveryJob('a|1'))).toBe('duplicate');
      await sleep(windowMs + 50);
      expect(await queue.enqueue(sampleDeliveryJob('a|1'))).toBe('enqueued');
      await queue.onIdle();
      expect(runs.sort()).toEqual(['a|1#1', 'a|1#1', 'a|2#1']);
      expect(queue.stats()).toMatchObject({ enqueued: 3, duplicates: 2, completed: 3, deadLettered: 0 });
    });

    it('the same id enqueued at once from several senders (PBX retry, two instances) runs once', async () => {
      const queue = make({ dedupeWindowMs: 60_000 });
      const runs: string[] = [];
      await queue.start(
        async (j) => {
          runs.push(j.id);
        },
        () => {},
      );
      const results = await Promise.all(Array.from({ length: 5 }, () => queue.enqueue(sampleDeliveryJob('d|1'))));
      expect(results.filter((r) => r === 'enqueued')).toHaveLength(1);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(4);
      await queue.onIdle();
      // Still a duplicate once delivered, inside the window.
      expect(await queue.enqueue(sampleDeliveryJob('d|1'))).toBe('duplicate');
      await queue.onIdle();
      expect(runs).toEqual(['d|1']);
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
      await queue.enqueue(sampleDeliveryJob('b|1'));
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
      await queue.enqueue(sampleDeliveryJob('c|1'));
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
      await queue.enqueue(sampleDeliveryJob('d|1'));
      await queue.onIdle();
      expect(runs).toBe(1);
      expect(dead).toMatchObject([{ attempts: 1, error: { status: 400, isRetryable: false } }]);
    });
  });
}
