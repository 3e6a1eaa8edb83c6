import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { DueUpload } from '../src/phone/calls.js';
import { CALL_RESULT_BY_STATUS, toCallResult } from '../src/phone/result-mapping.js';
import { phoneCallRecord } from '../src/phone/uploader.js';
import { testEnv } from './helpers.js';

const due = (over: Partial<DueUpload> = {}): DueUpload => ({
  commandId: 'cmd-1',
  enterpriseNumber: '0367',
  retailcrmUserId: '18',
  extension: '150',
  phone: '+79001234567',
  phoneUserId: 'u1',
  deviceId: 'd1',
  createdAt: 0,
  result: { call_request_id: 'cmd-1', call_status: 'connected', call_duration_seconds: 41.6 },
  resultAt: Date.parse('2026-11-23T10:05:00Z'),
  attempts: 1,
  ...over,
});

describe('device result -> RetailCRM calls upload', () => {
  it('maps every device status; anything new is "unknown"', () => {
    expect(CALL_RESULT_BY_STATUS).toEqual({
      connected: 'answered',
      no_answer: 'no answer',
      rejected: 'busy',
      no_action: 'failed',
      unknown: 'unknown',
    });
    expect(toCallResult('voicemail')).toBe('unknown');
  });

  it('builds an outgoing call record with the command id as externalId', () => {
    expect(
      phoneCallRecord(
        due({ result: { ...due().result, call_started_at: '2026-11-23T10:00:00+03:00' } }),
        undefined,
        'Europe/Moscow',
      ),
    ).toEqual({
      date: '2026-11-23 10:00:00',
      type: 'out',
      phone: '+79001234567',
      code: '150',
      userId: 18,
      result: 'answered',
      duration: 42,
      externalId: 'cmd-1',
    });
  });

  it('falls back to the time the result arrived; omits a non-numeric user; no duration -> 0', () => {
    const record = phoneCallRecord(
      due({ retailcrmUserId: null, result: { call_request_id: 'cmd-1', call_status: 'no_action' } }),
    );
    expect(record).toMatchObject({ date: '2026-11-23 10:05:00', result: 'failed', duration: 0 });
    expect(record).not.toHaveProperty('userId');
    expect(phoneCallRecord(due({ retailcrmUserId: 'abc' }))).not.toHaveProperty('userId');
  });

  it("is dated on the account's clock when its zone is known, else in the configured zone", () => {
    const started = due({ result: { ...due().result, call_started_at: '2026-11-23T10:00:00+03:00' } });
    const account = { user_extensions: {}, account_time_zone: 'Asia/Vladivostok' };
    expect(phoneCallRecord(started, account, 'Europe/Moscow').date).toBe('2026-11-23 17:00:00');
    expect(phoneCallRecord(due(), account, 'UTC').date).toBe('2026-11-23 20:05:00');
    expect(phoneCallRecord(due(), { user_extensions: {} }, 'Europe/Minsk').date).toBe('2026-11-23 13:05:00');
  });

  it('goes through the PBX builder: the manager found by extension, the account site attached', () => {
    const record = phoneCallRecord(due({ retailcrmUserId: null }), { user_extensions: { '21': '150' }, site: 'shop' });
    expect(record).toMatchObject({ code: '150', userId: 21, site: 'shop', externalId: 'cmd-1' });
  });
});

describe('RETAILCRM_TIME_ZONE', () => {
  it('defaults to UTC, accepts IANA zones, names a bad one', () => {
    expect(loadConfig(testEnv).retailCrmTimeZone).toBe('UTC');
    expect(loadConfig({ ...testEnv, RETAILCRM_TIME_ZONE: 'Europe/Moscow' }).retailCrmTimeZone).toBe('Europe/Moscow');
    expect(() => loadConfig({ ...testEnv, RETAILCRM_TIME_ZONE: 'Mars/Olympus' })).toThrow(/RETAILCRM_TIME_ZONE/);
  });
});
