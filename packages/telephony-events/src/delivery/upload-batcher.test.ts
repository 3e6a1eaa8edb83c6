import { describe, expect, it } from 'vitest';
import type { CallRecord, UploadCallsResponse } from '../ports.js';
import { createInProcessQueue } from '../queue/in-process-queue.js';
import { createRetailCrmSink } from '../retailcrm/retailcrm-sink.js';
import { createFakeTelephonyApi, FakeCrmError } from '../testing/fake-telephony-api.js';
import { createTelephonyPipeline } from './pipeline.js';
import { createDeliveryPolicies } from './policies.js';
import { createInMemoryIntegrationLog } from './stores.js';
import { createUploadBatcher, refusedRecordIndexes } from './upload-batcher.js';

const target = { enterpriseNumber: '0367', crm: 'retailcrm' };
const record = (id: string, extra: Partial<CallRecord> = {}): CallRecord => ({
  date: '2025-01-09 10:00:00',
  type: 'in',
  phone: '+79001234567',
  result: 'answered',
  duration: 10,
  externalId: id,
  ...extra,
});
/** The fake API, recording the size of every upload request. */
const countingApi = () => {
  const api = createFakeTelephonyApi();
  const sizes: number[] = [];
  const upload = api.uploadCalls.bind(api);
  api.uploadCalls = (calls, options) => {
    sizes.push(calls.length);
    return upload(calls, options);
  };
  return { api, sizes };
};
const quickPolicies = (retries = 0) =>
  createDeliveryPolicies({ timeoutMs: 500, retries, backoff: { initialMs: 1, maxMs: 2 }, rateLimit: false });

describe('upload batcher', () => {
  it('sends the records of one enterprise that arrive within the window as one request', async () => {
    const api = createFakeTelephonyApi();
    const batcher = createUploadBatcher({ policies: quickPolicies(), windowMs: 40 });
    const first = batcher.upload({ target, api, record: record('a') });
    await new Promise((r) => setTimeout(r, 10));
    const second = batcher.upload({ target, api, record: record('b') });
    // Another enterprise never shares the request.
    const other = batcher.upload({ target: { ...target, enterpriseNumber: '0400' }, api, record: record('c') });
    expect(api.attempts.uploadCalls).toBe(0);
    await Promise.all([first, second, other]);
    expect(api.attempts.uploadCalls).toBe(2);
    expect(batcher.stats()).toEqual({ requests: 2, records: 3 });
    expect(api.uploadedCalls.map((c) => c.externalId)).toEqual(['a', 'b', 'c']);
    // A record after the window went out starts the next batch.
    await batcher.upload({ target, api, record: record('d') });
    expect(api.attempts.uploadCalls).toBe(3);
  });

  it('sends a full batch of 50 at once, without waiting for the window', async () => {
    const { api, sizes } = countingApi();
    const batcher = createUploadBatcher({ policies: quickPolicies(), windowMs: 60_000 });
    const answers = Array.from({ length: 120 }, (_, i) => batcher.upload({ target, api, record: record(`r${i}`) }));
    await Promise.all(answers.slice(0, 100));
    expect(sizes).toEqual([50, 50]);
    await batcher.flush();
    await Promise.all(answers);
    expect(sizes).toEqual([50, 50, 20]);
    expect(api.uploadedCalls).toHaveLength(120);
  });

  it("gives each record its own share of the answer: RetailCRM's duplicates only to the records it names", async () => {
    const api = createFakeTelephonyApi();
    await api.uploadCalls([record('seen')]);
    const batcher = createUploadBatcher({ policies: quickPolicies(), windowMs: 5 });
    const [fresh, seen] = await Promise.all([
      batcher.upload({ target, api, record: record('fresh') }),
      batcher.upload({ target, api, record: record('seen') }),
    ]);
    expect(fresh).toEqual({ success: true, processedCallsCount: 1, duplicateCalls: [] });
    expect(seen).toEqual({ success: true, processedCallsCount: 0, duplicateCalls: ['seen'] });
  });

  it('fails every record of a batch that could not be sent, so each job retries', async () => {
    const api = createFakeTelephonyApi();
    api.failNext({ status: 503 });
    const batcher = createUploadBatcher({ policies: quickPolicies(0), windowMs: 5 });
    const outcomes = await Promise.allSettled([
      batcher.upload({ target, api, record: record('a') }),
      batcher.upload({ target, api, record: record('b') }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(api.uploadedCalls).toHaveLength(0);
  });

  it('one record RetailCRM refuses does not sink the others: the named one fails, the rest go again', async () => {
    const sent: string[][] = [];
    const api = createFakeTelephonyApi();
    const upload = api.uploadCalls.bind(api);
    // RetailCRM validates the whole request and names the bad records (the fake RetailCRM's wording).
    api.uploadCalls = async (calls, options): Promise<UploadCallsResponse> => {
      sent.push(calls.map((c) => c.externalId as string));
      const bad = calls.findIndex((c) => c.date === 'yesterday');
      if (bad >= 0) {
        throw Object.assign(new Error('Errors in the input parameters'), {
          isRetryable: false,
          status: 400,
          errors: [`calls[${bad}].date: Invalid date format.`],
        });
      }
      return upload(calls, options);
    };
    const batcher = createUploadBatcher({ policies: quickPolicies(), windowMs: 5 });
    const outcomes = await Promise.allSettled([
      batcher.upload({ target, api, record: record('a') }),
      batcher.upload({ target, api, record: record('bad', { date: 'yesterday' }) }),
      batcher.upload({ target, api, record: record('c') }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sent).toEqual([
      ['a', 'bad', 'c'],
      ['a', 'c'],
    ]);

    // When the refusal names no record, each is sent alone and only the bad one fails.
    sent.length = 0;
    api.uploadCalls = async (calls, options): Promise<UploadCallsResponse> => {
      sent.push(calls.map((c) => c.externalId as string));
      if (calls.some((c) => c.date === 'yesterday')) {
        throw Object.assign(new Error('Errors in the input parameters'), { isRetryable: false, status: 400 });
      }
      return upload(calls, options);
    };
    const again = await Promise.allSettled([
      batcher.upload({ target, api, record: record('d') }),
      batcher.upload({ target, api, record: record('bad2', { date: 'yesterday' }) }),
    ]);
    expect(again.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(sent).toEqual([['d', 'bad2'], ['d'], ['bad2']]);
  });

  it('reads the refused indexes from a list or an object of errors', () => {
    expect(
      refusedRecordIndexes({ errors: ['calls[3].date: Invalid date format.', 'calls[0].phone: blank'] }, 4),
    ).toEqual(new Set([3, 0]));
    expect(refusedRecordIndexes({ errors: { 'calls[1].result': 'not a valid choice' } }, 2)).toEqual(new Set([1]));
    expect(refusedRecordIndexes({ errors: ['calls[9].date'] }, 2)).toEqual(new Set());
    expect(refusedRecordIndexes(new Error('x'), 2)).toEqual(new Set());
  });

  it('takes one rate token per request, not per record', async () => {
    const waits: number[] = [];
    let now = 0;
    const policies = createDeliveryPolicies({
      retries: 0,
      rateLimit: { perSecond: 1, burst: 1 },
      clock: { now: () => now },
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    const api = createFakeTelephonyApi();
    const batcher = createUploadBatcher({ policies, windowMs: 5 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => batcher.upload({ target, api, record: record(`t${i}`) })));
    // 100 records, 2 requests: the second waits one interval of a 1/s limit; per record it would be 99 waits.
    expect(api.attempts.uploadCalls).toBe(2);
    expect(waits).toEqual([1000]);
  });
  it('a batch waiting for its rate token keeps taking records, so an account at its limit sends fuller requests', async () => {
    const { api, sizes } = countingApi();
    let grant = () => {};
    const policies = createDeliveryPolicies({
      retries: 0,
      rateLimit: { perSecond: 1, burst: 1 },
      clock: { now: () => 0 },
      sleep: () =>
        new Promise<void>((resolve) => {
          grant = resolve;
        }),
    });
    const batcher = createUploadBatcher({ policies, windowMs: 5 });
    await batcher.upload({ target, api, record: record('w0') });
    const waiting = [batcher.upload({ target, api, record: record('w1') })];
    await new Promise((r) => setTimeout(r, 30)); // its window closed: it waits for the next token
    waiting.push(...['w2', 'w3', 'w4'].map((id) => batcher.upload({ target, api, record: record(id) })));
    grant();
    await Promise.all(waiting);
    expect(sizes).toEqual([1, 4]);
  });
});

describe('batched uploads in the pipeline', () => {
  it('coalesces the hangups of one enterprise, logs one row per job, and acks a job only after its batch', async () => {
    const api = createFakeTelephonyApi();
    const log = createInMemoryIntegrationLog();
    const policies = quickPolicies(0);
    const uploads = createUploadBatcher({ policies, windowMs: 30 });
    const sizes: number[] = [];
    const upload = api.uploadCalls.bind(api);
    api.uploadCalls = async (calls, options) => {
      sizes.push(calls.length);
      // The first batch fails: none of its jobs is done; each runs again and is delivered by a later batch.
      if (sizes.length === 1) throw new FakeCrmError(503);
      return upload(calls, options);
    };
    const pipeline = createTelephonyPipeline({
      enablement: async () => ({ retailcrm: true }),
      sinks: [
        createRetailCrmSink({
          config: async () => ({
            domain: 'https://demo.retailcrm.ru',
            api_key: 'sk-test-0123456789',
            enabled: true,
            user_extensions: {},
          }),
          createApi: () => api,
          uploads,
        }),
      ],
      queue: createInProcessQueue({ attempts: 3, retryDelayMs: () => 5, concurrency: 20 }),
      policies,
      integrationLog: log,
    });
    try {
      await pipeline.start();
      for (let i = 0; i < 10; i++) {
        await pipeline.handle({
          enterprise_number: '0367',
          event_type: 'hangup',
          payload: {
            UniqueId: `u${i}`,
            CallType: 0,
            Phone: '+79001234567',
            CallStatus: '2',
            StartTime: '2025-01-09 10:00:00',
            EndTime: '2025-01-09 10:02:30',
          },
        });
      }
      await pipeline.onIdle();
      expect(sizes[0]).toBe(10);
      expect(sizes.slice(1).reduce((a, b) => a + b, 0)).toBe(10);
      expect(api.uploadedCalls.map((c) => c.externalId).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `u${i}`).sort(),
      );
      expect(pipeline.stats().delivered).toBe(10);
      const uploadsLogged = log.list().filter((r) => r.operation === 'telephony.uploadCalls');
      expect(uploadsLogged.filter((r) => r.status === 'error')).toHaveLength(10);
      expect(uploadsLogged.filter((r) => r.status === 'success')).toHaveLength(10);
      expect(new Set(uploadsLogged.map((r) => r.callUniqueId)).size).toBe(10);
    } finally {
      await pipeline.close();
    }
  });
});
