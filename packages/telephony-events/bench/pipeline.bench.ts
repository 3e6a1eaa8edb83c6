import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTelephonyPipeline } from '../src/delivery/pipeline.js';
import type { SinkCalls } from '../src/delivery/sink.js';
import type { RetailCrmTelephonyApi } from '../src/ports.js';
import { createInProcessQueue } from '../src/queue/in-process-queue.js';
import { createRedisQueue } from '../src/queue/redis-queue.js';
import type { DeliveryJob, DeliveryQueue } from '../src/queue/types.js';
import { createRetailCrmSink } from '../src/retailcrm/retailcrm-sink.js';
import { createFakeTelephonyApi } from '../src/testing/fake-telephony-api.js';

// What the PBX waits for: the time from posting an event to the answer, and how long until the CRM has it all.
// Peer: the original "inline" handling (call the CRM, then answer). CRM latency is simulated (CRM_LATENCY_MS).
const CRM_LATENCY_MS = 20;
const EVENTS = 2000;
const INLINE_EVENTS = 200;

let redis: ChildProcess | undefined;
let redisUrl = process.env.REDIS_URL;

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

beforeAll(async () => {
  if (redisUrl) return;
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}`;
  await new Promise((resolve) => setTimeout(resolve, 300));
});
afterAll(() => {
  redis?.kill();
});

const slowApi = (): RetailCrmTelephonyApi => {
  const api = createFakeTelephonyApi();
  const delay = () => new Promise((resolve) => setTimeout(resolve, CRM_LATENCY_MS));
  return {
    callEvent: async (e) => {
      await delay();
      return api.callEvent(e);
    },
    uploadCalls: async (c) => {
      await delay();
      return api.uploadCalls(c);
    },
    responsibleManager: (p) => api.responsibleManager(p),
  };
};

const config = { domain: 'https://demo.retailcrm.ru', api_key: 'k-bench-1', enabled: true, user_extensions: {} };
const event = (i: number) => ({
  enterprise_number: `0${300 + (i % 20)}`,
  event_type: 'hangup',
  payload: {
    UniqueId: `bench.${i}`,
    CallType: 0,
    Phone: '79001234567',
    Extensions: ['151'],
    CallStatus: '2',
    StartTime: '2025-01-09 10:00:00',
    EndTime: '2025-01-09 10:01:00',
  },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const rows: Record<string, string | number>[] = [];
const record = (name: string, n: number, acks: number[], totalMs: number) => {
  const sorted = [...acks].sort((a, b) => a - b);
  rows.push({
    handling: name,
    events: n,
    'ack p50 ms': percentile(sorted, 0.5).toFixed(3),
    'ack p99 ms': percentile(sorted, 0.99).toFixed(3),
    'all delivered, events/s': Math.round((n / totalMs) * 1000),
  });
};

async function runPipeline(name: string, queue: DeliveryQueue) {
  const sink = createRetailCrmSink({ config: async () => config, createApi: slowApi });
  const pipeline = createTelephonyPipeline({
    enablement: async () => ({ retailcrm: true }),
    sinks: [sink],
    queue,
    policies: { rateLimit: false, bulkhead: { perEnterprise: 4, queue: 10_000 } },
  });
  await pipeline.start();
  const acks: number[] = [];
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const t = performance.now();
    const result = await pipeline.handle(event(i));
    acks.push(performance.now() - t);
    if (!result.ok) throw new Error('rejected');
  }
  await pipeline.onIdle();
  record(name, EVENTS, acks, performance.now() - started);
  expect(pipeline.stats().delivered).toBe(EVENTS);
  await pipeline.close();
}

it('ack latency and delivery throughput', async () => {
  // Peer: inline delivery, the PBX waits for both CRM calls.
  const sink = createRetailCrmSink({ config: async () => config, createApi: slowApi });
  const calls: SinkCalls = { call: (step) => step.run(new AbortController().signal) };
  const acks: number[] = [];
  const started = performance.now();
  for (let i = 0; i < INLINE_EVENTS; i++) {
    const t = performance.now();
    const parsed = event(i);
    const job = {
      id: `${i}`,
      enterpriseNumber: parsed.enterprise_number,
      crm: 'retailcrm',
      receivedAt: Date.now(),
      event: parsed,
    } as unknown as DeliveryJob;
    await sink.deliver(job, calls);
    acks.push(performance.now() - t);
  }
  record('inline (await CRM, then answer)', INLINE_EVENTS, acks, performance.now() - started);

  await runPipeline('pipeline + in-process queue', createInProcessQueue({ concurrency: 64 }));
  await runPipeline(
    'pipeline + Redis queue (BullMQ)',
    createRedisQueue({
      connection: redisUrl as string,
      prefix: `bench-${randomBytes(3).toString('hex')}`,
      concurrency: 64,
    }),
  );
  console.table(rows);
  console.log(
    ['| handling | events | ack p50 ms | ack p99 ms | all delivered, events/s |', '| --- | ---: | ---: | ---: | ---: |']
      .concat(rows.map((r) => `| ${Object.values(r).join(' | ')} |`))
      .join('\n'),
  );
});
