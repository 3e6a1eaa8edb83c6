import { describe, expect, it, vi } from 'vitest';
import { createTelephonyPipeline } from '../delivery/pipeline.js';
import { createDeliveryPolicies } from '../delivery/policies.js';
import { createInMemoryIntegrationLog } from '../delivery/stores.js';
import { extensionFromToken, splitExtensions } from '../events/mapping.js';
import { isAnonymousNumber, toE164 } from '../events/phone-number.js';
import { telephonyEventSchema } from '../events/schema.js';
import { toWallClock } from '../events/timestamps.js';
import type { RetailCrmEnterpriseConfig, RetailCrmTaskInput } from '../ports.js';
import { createInProcessQueue } from '../queue/in-process-queue.js';
import { createFakeTelephonyApi } from '../testing/fake-telephony-api.js';
import { viewCall } from './call-view.js';
import { createRecordingHold } from './recording-hold.js';
import { createRetailCrmSink, lostRecording } from './retailcrm-sink.js';

const parse = (event_type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  telephonyEventSchema.parse({
    enterprise_number: '0367',
    event_type,
    payload: { UniqueId: 'u1', ...payload },
    ...extra,
  });

describe('extensions, numbers and stamps as real PBXes send them', () => {
  it('reduces ring groups, comma strings and channel names to extensions, and reports the rest', () => {
    expect(parse('dial', { Extensions: ['152&151&153'] }).payload.Extensions).toEqual(['152', '151', '153']);
    expect(parse('dial', { Extensions: '150, 151' }).payload.Extensions).toEqual(['150', '151']);
    expect(
      ['SIP/150-0000001a', 'PJSIP/151-00000002', 'Local/152@from-internal-0001;1', '153'].map(extensionFromToken),
    ).toEqual(['150', '151', '152', '153']);
    expect(splitExtensions(['150', '', 'SIP/trunk-0001', '+79001234567', 'SIP/150-1'])).toEqual({
      extensions: ['150'],
      unknown: ['SIP/trunk-0001', '+79001234567'],
    });
  });

  it('E.164 in the default country; anonymous callers recognised', () => {
    expect(toE164('80291234567', 'BY')).toBe('+375291234567');
    expect(toE164('375447000013', 'BY')).toBe('+375447000013');
    expect(toE164('89001234567', 'RU')).toBe('+79001234567');
    expect(toE164('79001234567', 'BY')).toBe('+79001234567');
    expect(toE164('+375 29 123-45-67')).toBe('+375291234567');
    expect(toE164('12')).toBe('12'); // not a valid number: digits kept, nothing lost
    expect(
      ['<unknown>', 'anonymous', 'Restricted', '', undefined, '150', '+79001234567'].map(isAnonymousNumber),
    ).toEqual([true, true, true, true, true, false, false]);
  });

  it('local stamps stay on the PBX clock; offsets and epoch seconds are written in the zone', () => {
    expect(toWallClock('2026-11-30 10:00:00', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('2026-11-30T10:00', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('2026-11-30T07:00:00Z', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('2026-11-30T09:00:00+02:00', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('2026-11-30T09:00:00+0200', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('1796022000', 'Europe/Minsk')).toBe('2026-11-30 10:00:00');
    expect(toWallClock('', 'UTC')).toBeUndefined();
  });
});

describe('which calls are customer calls', () => {
  const view = (payload: Record<string, unknown>) => viewCall(parse('hangup', payload), { timeZone: 'UTC' });
  it('CRM-initiated legs (original marker or ours), internal calls and customer calls', () => {
    expect(view({ CallType: 2, ExternalInitiated: true, Phone: '<unknown>' }).kind).toBe('crm_leg');
    expect(view({ CallType: '2', CallbridgeOriginate: '1', Phone: '' }).kind).toBe('crm_leg');
    expect(view({ CallType: 1, ExternalInitiated: 'true', Phone: '+79001234567' }).kind).toBe('customer');
    expect(view({ CallType: '2', Phone: '150', Extensions: ['152'] })).toMatchObject({
      kind: 'internal',
      phone: '150',
    });
    expect(view({ CallerIDNum: '151', ConnectedLineNum: '152' }).kind).toBe('internal');
    expect(view({ CallType: 0, Phone: '<unknown>' })).toMatchObject({
      kind: 'customer',
      anonymous: true,
      phone: 'anonymous',
    });
  });

  it('takes the recording from any of its names, in the payload or the envelope', () => {
    for (const [payload, extra] of [
      [{ record_url: 'https://r/1' }, {}],
      [{ RecordUrl: 'https://r/1' }, {}],
      [{ RecordingUrl: 'https://r/1' }, {}],
      [{ recording_url: 'https://r/1' }, {}],
      [{}, { record_url: 'https://r/1' }],
    ] as const) {
      expect(
        viewCall(parse('download', { Phone: '+79001234567', ...payload }, extra), { timeZone: 'UTC' }).recordUrl,
      ).toBe('https://r/1');
    }
  });
});

describe('recording hold', () => {
  it('hands a recording to a waiting upload, times out without one, and skips the wait once uploaded', async () => {
    vi.useFakeTimers();
    try {
      const hold = createRecordingHold();
      const waiting = hold.wait('k1', 5000);
      expect(hold.waiting()).toBe(1);
      expect(hold.offer('k1', 'https://r/1')).toBe(true);
      await expect(waiting).resolves.toBe('https://r/1');
      expect(hold.offer('k1', 'https://r/2')).toBe(false); // nobody waits any more
      const timedOut = hold.wait('k2', 5000);
      await vi.advanceTimersByTimeAsync(5000);
      await expect(timedOut).resolves.toBeUndefined();
      hold.markUploaded('k3');
      await expect(hold.wait('k3', 5000)).resolves.toBeUndefined();
      expect(hold.waiting()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a duplicateCalls answer is a lost recording only when this upload carried one', () => {
    const record = { date: 'd', type: 'in' as const, phone: '+1', result: 'answered' as const, externalId: 'u1' };
    const dup = { success: true as const, processedCallsCount: 0, duplicateCalls: ['u1'] };
    expect(lostRecording(record, dup)).toBeUndefined();
    expect(lostRecording({ ...record, recordUrl: 'https://r/1' }, dup)).toMatch(/recording was not attached/);
    expect(lostRecording({ ...record, recordUrl: 'https://r/1' }, { ...dup, duplicateCalls: [] })).toBeUndefined();
  });
});

describe('RetailCRM sink on real traffic', () => {
  const base: RetailCrmEnterpriseConfig = {
    domain: 'https://demo.retailcrm.ru',
    api_key: 'sk-test-0123456789',
    enabled: true,
    user_extensions: { '18': '150', '19': '151' },
  };
  const build = (config: Partial<RetailCrmEnterpriseConfig>) => {
    const api = createFakeTelephonyApi();
    const tasks: RetailCrmTaskInput[] = [];
    const log = createInMemoryIntegrationLog();
    const pipeline = createTelephonyPipeline({
      enablement: async () => ({ retailcrm: true }),
      sinks: [
        createRetailCrmSink({
          config: async () => ({ ...base, ...config }),
          createApi: () => api,
          createTasksApi: () => ({
            async create(task) {
              tasks.push(task);
              return { success: true, id: tasks.length };
            },
          }),
          timeZone: 'UTC',
        }),
      ],
      queue: createInProcessQueue({ attempts: 2, retryDelayMs: () => 1 }),
      policies: createDeliveryPolicies({ rateLimit: false }),
      integrationLog: log,
    });
    return { api, tasks, log, pipeline };
  };
  const hangup = (uid: string, payload: Record<string, unknown> = {}) => ({
    enterprise_number: '0367',
    event_type: 'hangup',
    payload: {
      UniqueId: uid,
      CallType: 0,
      Phone: '+79001234567',
      Extensions: [''],
      CallStatus: '0',
      StartTime: '2026-11-30 10:00:00',
      EndTime: '2026-11-30 10:00:20',
      ...payload,
    },
  });

  it('a missed incoming call with missed_call_task creates one task; without the flag none', async () => {
    const on = build({ missed_call_task: true });
    await on.pipeline.start();
    await on.pipeline.handle(hangup('m1'));
    await on.pipeline.onIdle();
    // The fake knows no responsible manager, and the hangup names nobody: no performer, no task, no crash.
    expect(on.tasks).toEqual([]);
    await on.pipeline.handle({
      enterprise_number: '0367',
      event_type: 'dial',
      payload: { UniqueId: 'm2', CallType: 0, Phone: '+79001234567', Extensions: ['151', '150'] },
    });
    await on.pipeline.handle(hangup('m2'));
    await on.pipeline.onIdle();
    expect(on.tasks).toEqual([
      {
        text: 'Missed call from +79001234567',
        commentary: 'Call m2 at 2026-11-30 10:00:00 was not answered.',
        performerId: 19,
        phone: '+79001234567',
      },
    ]);
    expect(on.log.list().find((r) => r.operation === 'tasks.create')).toMatchObject({
      status: 'success',
      callUniqueId: 'm2',
      direction: 'in',
      phone: '+79001234567',
    });
    const off = build({});
    await off.pipeline.start();
    await off.pipeline.handle(hangup('m3'));
    await off.pipeline.onIdle();
    expect(off.tasks).toEqual([]);
    await Promise.all([on.pipeline.close(), off.pipeline.close()]);
  });

  it('holds the upload for its recording and uploads at once when the download brings it', async () => {
    const { api, pipeline, log } = build({ recording_wait_seconds: 30 });
    await pipeline.start();
    const started = Date.now();
    await pipeline.handle(hangup('r1', { CallStatus: '2', Extensions: ['150'] }));
    await new Promise((r) => setTimeout(r, 50));
    expect(api.uploadedCalls).toEqual([]); // waiting
    await pipeline.handle({
      ...hangup('r1', { CallStatus: '2', Extensions: ['150'] }),
      event_type: 'download',
      record_url: 'https://r/1',
    });
    await pipeline.onIdle();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(api.uploadedCalls).toMatchObject([{ externalId: 'r1', recordUrl: 'https://r/1', code: '150', userId: 18 }]);
    expect(
      log
        .list()
        .filter((r) => r.status === 'skipped')
        .map((r) => r.errorMessage),
    ).toEqual(['recording_joined_hangup']);
    await pipeline.close();
  });

  it('a replayed hangup (origin "download" or "resend") uploads history but shows no card', async () => {
    const { api, pipeline } = build({});
    await pipeline.start();
    await pipeline.handle({ ...hangup('o1', { CallStatus: '2', Extensions: ['150'] }), origin: 'resend' });
    await pipeline.handle(hangup('o2', { CallStatus: '2', Extensions: ['150'] }));
    await pipeline.onIdle();
    expect(api.callEvents.map((e) => `${e.type}:${e.callExternalId}`)).toEqual(['hangup:o1', 'in:o2', 'hangup:o2']);
    expect(api.uploadedCalls.map((c) => c.externalId)).toEqual(['o1', 'o2']);
    await pipeline.close();
  });
});
