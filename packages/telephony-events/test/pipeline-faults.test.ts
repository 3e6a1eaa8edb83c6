import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelephonyPipeline, type TelephonyPipeline } from '../src/delivery/pipeline.js';
import { createDeliveryPolicies } from '../src/delivery/policies.js';
import { createInMemoryDeadLetterStore, createInMemoryIntegrationLog } from '../src/delivery/stores.js';
import { createInProcessQueue } from '../src/queue/in-process-queue.js';
import { createRedisQueue } from '../src/queue/redis-queue.js';
import type { DeliveryQueue } from '../src/queue/types.js';
import { createRetailCrmSink } from '../src/retailcrm/retailcrm-sink.js';
import { createFakeTelephonyApi } from '../src/testing/fake-telephony-api.js';
import { redisTestPrefix } from './redis-prefix.js';

const config = { domain: 'https://demo.retailcrm.ru', api_key: 'k-123456', enabled: true, user_extensions: {} };
const open: TelephonyPipeline[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function build(queue: DeliveryQueue, api = createFakeTelephonyApi()) {
  const deadLetters = createInMemoryDeadLetterStore();
  const log = createInMemoryIntegrationLog();
  const pipeline = createTelephonyPipeline({
    enablement: async () => ({ retailcrm: true }),
    sinks: [createRetailCrmSink({ config: async () => config, createApi: () => api })],
    queue,
    policies: createDeliveryPolicies({
      timeoutMs: 1000,
      retries: 1,
      backoff: { initialMs: 1, maxMs: 2 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 40 },
      rateLimit: false,
    }),
    deadLetters,
    integrationLog: log,
  });
  open.push(pipeline);
  return { pipeline, api, deadLetters, log };
}

const hangup = (id: string) => ({
  enterprise_number: '0367',
  event_type: 'hangup',
  payload: {
    UniqueId: id,
    CallType: 1,
    CallerIDNum: '150',
    Phone: '79001234567',
    CallStatus: '2',
    StartTime: '2025-01-09 10:00:00',
    EndTime: '2025-01-09 10:00:42',
  },
});

describe('breaker inside the pipeline', () => {
  it('opens after repeated 500s (jobs wait in the queue, not in the CRM), half-opens, then all events land once', async () => {
    const { pipeline, api, deadLetters, log } = build(createInProcessQueue({ attempts: 30, retryDelayMs: () => 15 }));
    // 500: the CRM is unwell. A 503 is RetailCRM's rate-limit answer and does not count (see policies.test.ts).
    api.failNext(...Array.from({ length: 6 }, () => ({ status: 500 })));
    await pipeline.start();
    for (let i = 0; i < 5; i++) await pipeline.handle(hangup(`br${i}`));
    await pipeline.onIdle();
    expect(deadLetters.list()).toEqual([]);
    expect(api.uploadedCalls.map((c) => c.externalId).sort()).toEqual(['br0', 'br1', 'br2', 'br3', 'br4']);
    expect(api.callEvents).toHaveLength(5);
    // 6 failing calls reached the CRM; the rest of the failures were rejected by the open breaker.
    expect(api.attempts.callEvent + api.attempts.uploadCalls).toBe(6 + 10);
    expect(log.list().some((r) => r.errorMessage?.startsWith('circuit_open: '))).toBe(true);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)('pipeline over the Redis queue', () => {
  const prefix = redisTestPrefix(redisUrl);

  it('two instances share the work; a 503 phase is retried; every event reaches the CRM exactly once', async () => {
    const api = createFakeTelephonyApi();
    const queueName = `q${randomBytes(3).toString('hex')}`;
    const makeQueue = () =>
      createRedisQueue({ connection: redisUrl as string, prefix, queueName, attempts: 10, retryDelayMs: () => 20 });
    const a = build(makeQueue(), api);
    const b = build(makeQueue(), api);
    api.failNext(...Array.from({ length: 4 }, () => ({ status: 503 })));
    await Promise.all([a.pipeline.start(), b.pipeline.start()]);
    const events = Array.from({ length: 6 }, (_, i) => hangup(`rq${i}`));
    for (const [i, event] of events.entries()) await (i % 2 ? a : b).pipeline.handle(event);
    // The same events posted again to the other instance are duplicates across instances.
    const again = await a.pipeline.handle(events[0]);
    expect(again).toMatchObject({ ok: true, duplicates: ['retailcrm'] });
    await a.pipeline.onIdle();
    await b.pipeline.onIdle();
    expect(a.deadLetters.list().concat(b.deadLetters.list())).toEqual([]);
    expect(api.uploadedCalls.map((c) => c.externalId).sort()).toEqual(events.map((e) => e.payload.UniqueId).sort());
    expect(api.callEvents).toHaveLength(6);
    expect(a.pipeline.stats().delivered + b.pipeline.stats().delivered).toBe(6);
  });
});
