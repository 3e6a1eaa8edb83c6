import { describe, expect, it } from 'vitest';
import { createTelephonyPipeline } from '../delivery/pipeline.js';
import { createDeliveryPolicies } from '../delivery/policies.js';
import { telephonyEventSchema } from '../events/schema.js';
import type { Logger } from '../ports.js';
import { createInProcessQueue } from '../queue/in-process-queue.js';
import { createFakeTelephonyApi } from '../testing/fake-telephony-api.js';
import { viewCall } from './call-view.js';
import { formatRetailCrmDate, hostTimeZone } from './format.js';
import { buildCallRecord, createRetailCrmSink } from './retailcrm-sink.js';

// 2025-01-09 07:00:00 UTC = 10:00 in Moscow (UTC+3, no DST) = 17:00 in Vladivostok (UTC+10).
const AT = Date.UTC(2025, 0, 9, 7, 0, 0);
const config = {
  domain: 'https://demo.retailcrm.ru',
  api_key: 'sk-test-0123456789',
  enabled: true,
  user_extensions: {},
};

const pad = (n: number) => String(n).padStart(2, '0');
const localStamp = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

async function uploadDateOf(
  payload: Record<string, unknown>,
  timeZone?: string,
  account: Record<string, unknown> = {},
  logger?: Logger,
) {
  const api = createFakeTelephonyApi();
  const pipeline = createTelephonyPipeline({
    enablement: async () => ({ retailcrm: true }),
    sinks: [
      createRetailCrmSink({
        config: async () => ({ ...config, ...account }),
        createApi: () => api,
        clock: { now: () => AT },
        timeZone,
        ...(logger ? { logger } : {}),
      }),
    ],
    queue: createInProcessQueue({ clock: { now: () => AT } }),
    policies: createDeliveryPolicies({ rateLimit: false }),
    clock: { now: () => AT },
  });
  try {
    await pipeline.start();
    await pipeline.handle({
      enterprise_number: '0367',
      event_type: 'download',
      payload: { UniqueId: 'tz1', CallType: 0, Phone: '79001234567', CallStatus: '2', Extensions: ['151'], ...payload },
    });
    await pipeline.onIdle();
    return api.uploadedCalls[0]?.date;
  } finally {
    await pipeline.close();
  }
}

describe('upload dates and time zones', () => {
  it('formats in UTC without a zone (unchanged) and in the given IANA zone with one', () => {
    expect(formatRetailCrmDate(AT)).toBe('2025-01-09 07:00:00');
    expect(formatRetailCrmDate(AT, 'Europe/Moscow')).toBe('2025-01-09 10:00:00');
    expect(formatRetailCrmDate(AT, 'Asia/Vladivostok')).toBe('2025-01-09 17:00:00');
    // Midnight is 00, never 24; the date rolls over with the zone.
    expect(formatRetailCrmDate(Date.UTC(2025, 0, 9, 21, 0, 5), 'Europe/Moscow')).toBe('2025-01-10 00:00:05');
    expect(() => formatRetailCrmDate(AT, 'Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'invalid_time_zone' }),
    );
  });

  it('the record date is StartTime, else EndTime (same PBX clock), else the fallback', () => {
    const base = { UniqueId: 'u', Phone: '79001234567', CallStatus: '2' };
    const cfg = { user_extensions: {} };
    const view = (payload: Record<string, unknown>) =>
      viewCall(
        telephonyEventSchema.parse({ enterprise_number: '1', event_type: 'hangup', payload: { ...base, ...payload } }),
        { timeZone: 'Europe/Moscow' },
      );
    expect(buildCallRecord(view({ StartTime: '2025-01-09 10:00:00' }), cfg, 'fb').date).toBe('2025-01-09 10:00:00');
    expect(buildCallRecord(view({ EndTime: '2025-01-09 10:02:30' }), cfg, 'fb').date).toBe('2025-01-09 10:02:30');
    expect(buildCallRecord(view({}), cfg, 'fb').date).toBe('fb');
  });

  it('a download without StartTime/EndTime is dated at receipt on the PBX clock zone, not in UTC', async () => {
    expect(await uploadDateOf({}, 'Europe/Moscow')).toBe('2025-01-09 10:00:00');
    expect(await uploadDateOf({ EndTime: '2025-01-09 10:05:00' }, 'Europe/Moscow')).toBe('2025-01-09 10:05:00');
  });

  it("with the account's zone, PBX stamps are converted from the PBX clock and instants written on the account's", async () => {
    const vladivostok = { time_zone: 'Europe/Minsk', account_time_zone: 'Asia/Vladivostok' };
    // Minsk 10:00 (UTC+3) = Vladivostok 17:00 (UTC+10).
    expect(await uploadDateOf({ StartTime: '2025-01-09 10:00:00' }, 'UTC', vladivostok)).toBe('2025-01-09 17:00:00');
    expect(await uploadDateOf({ EndTime: '2025-01-09 20:00:00' }, 'UTC', vladivostok)).toBe('2025-01-10 03:00:00');
    // An instant (with an offset, or the time of receipt) is simply written on the account's clock.
    expect(await uploadDateOf({ StartTime: '2025-01-09T07:00:00Z' }, 'UTC', vladivostok)).toBe('2025-01-09 17:00:00');
    expect(await uploadDateOf({}, 'UTC', vladivostok)).toBe('2025-01-09 17:00:00');
    // Without an enterprise time_zone the sink's zone is the PBX clock.
    expect(
      await uploadDateOf({ StartTime: '2025-01-09 10:00:00' }, 'Europe/Moscow', { account_time_zone: 'UTC' }),
    ).toBe('2025-01-09 07:00:00');
    // The same zone on both sides changes nothing.
    expect(
      await uploadDateOf({ StartTime: '2025-01-09 10:00:00' }, 'UTC', {
        account_time_zone: 'Europe/Minsk',
        time_zone: 'Europe/Minsk',
      }),
    ).toBe('2025-01-09 10:00:00');
  });

  it('keeps the duration of a call across a conversion, and the PBX clock for an unknown account zone', async () => {
    const view = viewCall(
      telephonyEventSchema.parse({
        enterprise_number: '1',
        event_type: 'hangup',
        payload: {
          UniqueId: 'u',
          Phone: '79001234567',
          StartTime: '2025-01-09 10:00:00',
          EndTime: '2025-01-09 10:02:30',
        },
      }),
      { timeZone: 'Europe/Minsk', accountTimeZone: 'Asia/Vladivostok' },
    );
    expect(view).toMatchObject({ start: '2025-01-09 17:00:00', end: '2025-01-09 17:02:30', duration: 150 });
    const warnings: unknown[] = [];
    const logger = { info() {}, warn: (obj: object) => warnings.push(obj), error() {} };
    expect(
      await uploadDateOf(
        { StartTime: '2025-01-09 10:00:00' },
        'Europe/Minsk',
        { account_time_zone: 'Mars/Olympus' },
        logger,
      ),
    ).toBe('2025-01-09 10:00:00');
    expect(warnings).toEqual([expect.objectContaining({ timeZone: 'Mars/Olympus', setting: 'account_time_zone' })]);
  });

  it("defaults to the host's local zone", async () => {
    expect(hostTimeZone()).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await uploadDateOf({})).toBe(localStamp(AT));
  });

  it('an unknown zone fails when the sink is created', () => {
    expect(() =>
      createRetailCrmSink({
        config: async () => config,
        createApi: () => createFakeTelephonyApi(),
        timeZone: 'Nope/Nope',
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid_time_zone' }));
  });
});
