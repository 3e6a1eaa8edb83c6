import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../queue/in-process-queue.js';
import { createRetailCrmSink } from '../retailcrm/retailcrm-sink.js';
import { createFakeTelephonyApi, type FakeTelephonyApi } from '../testing/fake-telephony-api.js';
import { createTelephonyPipeline, type TelephonyPipeline } from './pipeline.js';
import { createDeliveryPolicies } from './policies.js';
import { createInMemoryDeadLetterStore, createInMemoryIntegrationLog } from './stores.js';

const SECRET = 'sk-test-0123456789';
const config = {
  domain: 'https://demo.retailcrm.ru',
  api_key: SECRET,
  enabled: true,
  user_extensions: { '19': '150', '18': '151', '22': null },
};

const pipelines: TelephonyPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.close()));
});

function setup(
  overrides: { matrix?: Record<string, boolean>; retries?: number; attempts?: number; timeoutMs?: number } = {},
) {
  const api: FakeTelephonyApi = createFakeTelephonyApi();
  const log = createInMemoryIntegrationLog();
  const deadLetters = createInMemoryDeadLetterStore();
  const configs = new Map([['0367', { ...config }]]);
  const pipeline = createTelephonyPipeline({
    enablement: async (enterprise) => (enterprise === '0367' ? (overrides.matrix ?? { retailcrm: true }) : undefined),
    sinks: [createRetailCrmSink({ config: async (e) => configs.get(e), createApi: () => api })],
    queue: createInProcessQueue({ attempts: overrides.attempts ?? 4, retryDelayMs: () => 5 }),
    policies: createDeliveryPolicies({
      timeoutMs: overrides.timeoutMs ?? 200,
      retries: overrides.retries ?? 2,
      backoff: { initialMs: 1, maxMs: 4 },
      breaker: { consecutiveFailures: 50, halfOpenAfterMs: 10 },
      rateLimit: false,
    }),
    integrationLog: log,
    deadLetters,
  });
  pipelines.push(pipeline);
  return { api, log, deadLetters, pipeline, configs };
}

const dial = (uniqueId: string, payload: Record<string, unknown> = {}) => ({
  enterprise_number: '0367',
  event_type: 'dial',
  payload: { UniqueId: uniqueId, CallType: 0, Phone: '+79001234567', Extensions: ['150', '151', '152'], ...payload },
});
const hangup = (uniqueId: string, payload: Record<string, unknown> = {}) => ({
  enterprise_number: '0367',
  event_type: 'hangup',
  payload: {
    UniqueId: uniqueId,
    CallType: 0,
    Phone: '+79001234567',
    CallStatus: '2',
    Extensions: ['151'],
    StartTime: '2025-01-09 10:00:00',
    EndTime: '2025-01-09 10:02:30',
    ...payload,
  },
});

describe('telephony pipeline + RetailCRM sink', () => {
  it('answers before the CRM is called, then delivers dial as an incoming call event to the ring group', async () => {
    const { api, pipeline } = setup();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const original = api.callEvent.bind(api);
    api.callEvent = async (event) => {
      await gate;
      return original(event);
    };
    await pipeline.start();
    const result = await pipeline.handle(dial('u1'));
    expect(result).toMatchObject({ ok: true, enqueued: ['retailcrm'], duplicates: [], ignored: [] });
    expect(api.callEvents).toEqual([]); // handle() answered while the CRM call is still pending
    release();
    await pipeline.onIdle();
    expect(api.callEvents).toEqual([
      { phone: '+79001234567', type: 'in', codes: ['150', '151', '152'], userIds: [19, 18], callExternalId: 'u1' },
    ]);
  });

  it('outgoing dial carries only the dialling manager; direction is derived when CallType is missing', async () => {
    const { api, pipeline } = setup();
    await pipeline.start();
    await pipeline.handle(
      dial('u2', { CallType: undefined, CallerIDNum: '150', Phone: '+79005550000', Extensions: [] }),
    );
    await pipeline.onIdle();
    expect(api.callEvents).toEqual([
      { phone: '+79005550000', type: 'out', codes: ['150'], userIds: [19], callExternalId: 'u2' },
    ]);
  });

  it('hangup -> hangup event then one history upload with result, duration, manager code and userId', async () => {
    const { api, pipeline, log } = setup();
    await pipeline.start();
    await pipeline.handle(dial('u3'));
    await pipeline.handle(hangup('u3'));
    await pipeline.handle(hangup('u4', { CallStatus: '0', Extensions: [''], EndTime: '2025-01-09 10:00:20' }));
    await pipeline.onIdle();
    expect(api.callEvents.filter((e) => e.type === 'hangup')).toEqual([
      {
        phone: '+79001234567',
        type: 'hangup',
        hangupStatus: 'answered',
        codes: ['151'],
        userIds: [18],
        callExternalId: 'u3',
      },
      { phone: '+79001234567', type: 'hangup', hangupStatus: 'no answered', callExternalId: 'u4' },
    ]);
    expect(api.uploadedCalls).toEqual([
      {
        date: '2025-01-09 10:00:00',
        type: 'in',
        phone: '+79001234567',
        code: '151',
        userId: 18,
        result: 'answered',
        duration: 150,
        externalId: 'u3',
      },
      {
        date: '2025-01-09 10:00:00',
        type: 'in',
        phone: '+79001234567',
        result: 'failed',
        duration: 20,
        externalId: 'u4',
      },
    ]);
    // u4 had no dial: the card the original's synthetic dial showed comes first.
    expect(api.callEvents.filter((e) => e.type === 'in').map((e) => e.callExternalId)).toEqual(['u3', 'u4']);
    // Every CRM call is logged, with the call it is about; the API key never reaches a record.
    expect(log.list()).toHaveLength(6);
    expect(log.list().every((r) => r.callUniqueId && r.direction === 'in' && r.phone === '+79001234567')).toBe(true);
    expect(log.list().every((r) => r.status === 'success' && r.integrationType === 'retailcrm')).toBe(true);
    expect(JSON.stringify(log.list())).not.toContain(SECRET);
  });

  it('a hangup whose dial was never seen still uploads history; a dial arriving after it is ignored', async () => {
    const { api, pipeline } = setup();
    await pipeline.start();
    await pipeline.handle(hangup('u5', { CallType: 1, CallerIDNum: '150', Phone: '79007770000', Extensions: [''] }));
    const late = await pipeline.handle(dial('u5'));
    await pipeline.onIdle();
    expect(late).toMatchObject({ ok: true, enqueued: [], ignored: ['retailcrm'] });
    expect(api.callEvents.map((e) => e.type)).toEqual(['hangup']);
    expect(api.uploadedCalls).toMatchObject([{ type: 'out', phone: '+79007770000', code: '150', userId: 19 }]);
    expect(pipeline.stats().staleDials).toBe(1);
  });

  it('download -> upload with the recording URL and no call card; bridge -> no CRM call', async () => {
    const { api, pipeline } = setup();
    await pipeline.start();
    const download = { ...hangup('u6', { RecordUrl: 'https://pbx.example/rec/u6.mp3' }), event_type: 'download' };
    await pipeline.handle(download);
    const bridge = await pipeline.handle({
      enterprise_number: '0367',
      event_type: 'bridge',
      payload: { UniqueId: 'u6', CallerIDNum: '+79001234567', ConnectedLineNum: '151', Channel: 'SIP/151-00000000' },
    });
    await pipeline.onIdle();
    expect(bridge).toMatchObject({ ok: true, enqueued: [], ignored: ['retailcrm'] });
    expect(api.callEvents).toEqual([]);
    expect(api.uploadedCalls).toMatchObject([{ externalId: 'u6', recordUrl: 'https://pbx.example/rec/u6.mp3' }]);
    expect(pipeline.stats()).toMatchObject({ received: { bridge: 1, download: 1 }, ignored: 1 });
  });

  it('duplicate events inside the window are dropped and counted', async () => {
    const { api, pipeline } = setup();
    await pipeline.start();
    const first = await pipeline.handle(hangup('u7'));
    const second = await pipeline.handle(hangup('u7'));
    await pipeline.onIdle();
    const third = await pipeline.handle(hangup('u7'));
    await pipeline.onIdle();
    expect(first).toMatchObject({ enqueued: ['retailcrm'] });
    expect(second).toMatchObject({ enqueued: [], duplicates: ['retailcrm'] });
    expect(third).toMatchObject({ duplicates: ['retailcrm'] });
    expect(api.uploadedCalls).toHaveLength(1);
    expect(api.attempts.uploadCalls).toBe(1);
    expect(pipeline.stats().duplicates).toBe(2);
  });

  it('respects the enablement matrix and rejects invalid events without enqueueing', async () => {
    const { api, pipeline } = setup({ matrix: { retailcrm: false, amocrm: true } });
    await pipeline.start();
    expect(await pipeline.handle(dial('u8'))).toMatchObject({
      ok: true,
      enqueued: [],
      ignored: [],
      unsupported: ['amocrm'],
    });
    const unknownEnterprise = await pipeline.handle({ ...dial('u9'), enterprise_number: '9999' });
    expect(unknownEnterprise).toMatchObject({ ok: true, enqueued: [] });
    const invalid = await pipeline.handle({ enterprise_number: '0367', event_type: 'dial', payload: {} });
    expect(invalid).toMatchObject({ ok: false, error: 'invalid_event' });
    await pipeline.onIdle();
    expect(api.attempts.callEvent).toBe(0);
    expect(pipeline.stats()).toMatchObject({ invalid: 1, unsupported: 1, unknownEnterprise: 1 });
  });

  it('an enterprise without an enablement matrix is answered ok but counted and logged (rate-limited)', async () => {
    let now = 1_000_000;
    const warnings: Array<{ obj: object; msg?: string }> = [];
    const logger = { info() {}, error() {}, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) };
    const pipeline = createTelephonyPipeline({
      enablement: async () => undefined,
      sinks: [createRetailCrmSink({ config: async () => config, createApi: () => createFakeTelephonyApi() })],
      clock: { now: () => now },
      logger,
      unknownEnterpriseLogIntervalMs: 60_000,
    });
    pipelines.push(pipeline);
    await pipeline.start();
    expect(await pipeline.handle({ ...dial('x1'), enterprise_number: '9999' })).toMatchObject({
      ok: true,
      enqueued: [],
    });
    await pipeline.handle({ ...hangup('x1'), enterprise_number: '9999' });
    await pipeline.handle({ ...dial('x2'), enterprise_number: '9998' });
    expect(pipeline.stats().unknownEnterprise).toBe(3);
    expect(warnings.map((w) => (w.obj as { enterprise: string }).enterprise)).toEqual(['9999', '9998']);
    now += 60_000;
    await pipeline.handle({ ...dial('x3'), enterprise_number: '9999' });
    expect(warnings).toHaveLength(3);
    expect(warnings[2]?.obj).toMatchObject({ enterprise: '9999', eventType: 'dial', suppressedSinceLastLog: 1 });
    expect(pipeline.stats()).toMatchObject({ unknownEnterprise: 4, enqueued: 0 });
  });

  it('an integration-log write failure is counted and logged; the delivery still succeeds', async () => {
    const api = createFakeTelephonyApi();
    const errors: string[] = [];
    const pipeline = createTelephonyPipeline({
      enablement: async () => ({ retailcrm: true }),
      sinks: [createRetailCrmSink({ config: async () => config, createApi: () => api })],
      policies: createDeliveryPolicies({ rateLimit: false }),
      integrationLog: {
        write() {
          throw new Error('log table gone');
        },
      },
      logger: { info() {}, warn() {}, error: (_obj, msg) => errors.push(msg ?? '') },
    });
    pipelines.push(pipeline);
    await pipeline.start();
    await pipeline.handle(dial('l1'));
    await pipeline.onIdle();
    expect(api.callEvents).toHaveLength(1);
    expect(pipeline.stats()).toMatchObject({ delivered: 1, integrationLogErrors: 1 });
    expect(errors).toEqual(['integration log write failed']);
  });

  it('reports an unavailable enablement matrix instead of dropping the event silently', async () => {
    const pipeline = createTelephonyPipeline({
      enablement: async () => {
        throw new Error('db down');
      },
      sinks: [],
    });
    pipelines.push(pipeline);
    expect(await pipeline.handle(dial('u1'))).toEqual({
      ok: false,
      error: 'enablement_unavailable',
      message: 'db down',
    });
  });

  it('reports a queue that cannot store the event (the PBX side should retry)', async () => {
    const queue = createInProcessQueue();
    queue.enqueue = async () => {
      throw new Error('redis down');
    };
    const pipeline = createTelephonyPipeline({
      enablement: async () => ({ retailcrm: true }),
      sinks: [createRetailCrmSink({ config: async () => config, createApi: () => createFakeTelephonyApi() })],
      queue,
    });
    pipelines.push(pipeline);
    expect(await pipeline.handle(dial('q1'))).toEqual({ ok: false, error: 'queue_unavailable', message: 'redis down' });
  });

  it('respects per-event flags and a disabled config (skipped, counted)', async () => {
    const { api, pipeline, configs } = setup();
    configs.set('0367', { ...config, events: { dial: false } } as typeof config);
    await pipeline.start();
    await pipeline.handle(dial('u10'));
    await pipeline.onIdle();
    configs.set('0367', { ...config, enabled: false });
    await pipeline.handle(hangup('u10'));
    await pipeline.onIdle();
    expect(api.attempts).toMatchObject({ callEvent: 0, uploadCalls: 0 });
    expect(pipeline.stats().skipped).toEqual({ incoming_disabled: 1, disabled: 1 });
  });
});

describe('delivery faults', () => {
  it('CRM answers 503 and times out for a while, then recovers: every event is delivered exactly once', async () => {
    const { api, pipeline, deadLetters, log } = setup({ timeoutMs: 150 });
    api.failNext({ status: 503 }, { hangMs: 400 }, { status: 503 }, { status: 503 }, { hangMs: 400 }, { status: 503 });
    await pipeline.start();
    await pipeline.handle(dial('f1'));
    await pipeline.handle(hangup('f1'));
    await pipeline.handle(hangup('f2', { Phone: '79002223344' }));
    await pipeline.onIdle();
    expect(deadLetters.list()).toEqual([]);
    expect(api.callEvents.map((e) => `${e.type}:${e.callExternalId}`).sort()).toEqual([
      'hangup:f1',
      'hangup:f2',
      'in:f1',
      'in:f2',
    ]);
    expect(api.uploadedCalls.map((c) => c.externalId).sort()).toEqual(['f1', 'f2']);
    expect(log.list().filter((r) => r.status === 'error').length).toBeGreaterThanOrEqual(6);
    expect(log.list().filter((r) => r.status === 'error')[0]?.errorMessage).toMatch(/^(rate_limited|timeout): /);
  });

  it('a CRM call that times out is cancelled through its AbortSignal (no request left running)', async () => {
    const { api, pipeline, deadLetters } = setup({ retries: 0, attempts: 1, timeoutMs: 50 });
    const signals: Array<AbortSignal | undefined> = [];
    api.callEvent = (_event, options) => {
      signals.push(options?.signal);
      return new Promise(() => {});
    };
    await pipeline.start();
    await pipeline.handle(dial('t1'));
    await pipeline.onIdle();
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(deadLetters.list()).toMatchObject([{ error: { code: 'timeout' } }]);
  });

  it('an upload failure after the hangup event retries only the upload (steps are remembered)', async () => {
    const { api, pipeline } = setup({ retries: 0 });
    await pipeline.start();
    api.failNext();
    const original = api.uploadCalls.bind(api);
    let failUploads = 2;
    api.uploadCalls = async (calls) => {
      if (failUploads-- > 0) {
        api.attempts.uploadCalls++;
        throw Object.assign(new Error('HTTP 503'), { isRetryable: true });
      }
      return original(calls);
    };
    await pipeline.handle(hangup('s1'));
    await pipeline.onIdle();
    expect(api.callEvents.map((e) => e.type)).toEqual(['in', 'hangup']);
    expect(api.uploadedCalls).toHaveLength(1);
    expect(api.attempts.uploadCalls).toBe(3);
  });

  it('a non-retryable CRM error goes to the dead letters at once, with the error', async () => {
    const { api, pipeline, deadLetters, log } = setup();
    api.failNext({ status: 400 });
    await pipeline.start();
    await pipeline.handle(dial('d1'));
    await pipeline.onIdle();
    expect(api.attempts.callEvent).toBe(1);
    expect(deadLetters.list()).toMatchObject([
      { job: { id: '0367|d1|dial|retailcrm' }, attempts: 1, error: { status: 400, isRetryable: false } },
    ]);
    expect(log.list()).toMatchObject([{ status: 'error', errorMessage: 'api_error: HTTP 400' }]);
    expect(pipeline.stats().deadLettered).toBe(1);
  });

  it('a permanent hangup-event failure still uploads the call history, then dead-letters the event', async () => {
    const { api, pipeline, deadLetters } = setup();
    api.failNext({ status: 400 });
    await pipeline.start();
    await pipeline.handle(hangup('p1'));
    await pipeline.onIdle();
    expect(api.attempts.callEvent).toBe(1);
    expect(api.uploadedCalls.map((c) => c.externalId)).toEqual(['p1']);
    expect(deadLetters.list()).toMatchObject([{ job: { id: '0367|p1|hangup|retailcrm' }, error: { status: 400 } }]);
  });

  it('a job that exhausts its retries is dead-lettered, not dropped', async () => {
    const { api, pipeline, deadLetters } = setup({ retries: 1, attempts: 2 });
    api.failNext(...Array.from({ length: 10 }, () => ({ status: 503 })));
    await pipeline.start();
    await pipeline.handle(hangup('d2'));
    await pipeline.onIdle();
    expect(api.attempts.callEvent).toBe(4); // 2 job attempts x (1 try + 1 retry)
    expect(deadLetters.list()).toMatchObject([{ attempts: 2, error: { code: 'rate_limited' } }]);
    expect(api.uploadedCalls).toEqual([]);
  });

  it('a caller without a number gets no card; a dead-lettered job carries no PBX token', async () => {
    const { api, pipeline, deadLetters } = setup();
    await pipeline.start();
    await pipeline.handle({ enterprise_number: '0367', event_type: 'dial', payload: { UniqueId: 'm0', CallType: 0 } });
    await pipeline.onIdle();
    expect(api.attempts.callEvent).toBe(0);
    expect(pipeline.stats().skipped).toEqual({ anonymous_caller: 1 });
    api.failNext({ status: 400 });
    await pipeline.handle({
      enterprise_number: '0367',
      event_type: 'dial',
      payload: { UniqueId: 'm1', Phone: '+79001234567', Token: 'pbx-secret-token-42' },
    });
    await pipeline.onIdle();
    expect(deadLetters.list()).toMatchObject([{ error: { status: 400 }, attempts: 1 }]);
    expect(JSON.stringify(deadLetters.list())).not.toContain('pbx-secret-token-42');
    expect(deadLetters.list()[0]?.job.event.payload.Token).toBe('***');
  });
});
