import { describe, expect, it } from 'vitest';
import {
  deriveDirection,
  deriveManagerCode,
  derivePhone,
  durationSeconds,
  idempotencyKey,
  internalExtensions,
  isAnswered,
  isInternalNumber,
  userIdByExtension,
} from './mapping.js';
import { telephonyEventSchema } from './schema.js';

describe('telephonyEventSchema', () => {
  it('accepts the PBX envelope, int or string CallType, and keeps unknown fields', () => {
    const parsed = telephonyEventSchema.parse({
      enterprise_number: '0367',
      event_type: 'hangup',
      payload: {
        UniqueId: '1700000000.42',
        CallType: '0',
        CallStatus: 2,
        Extensions: ['', null, 151],
        StartTime: '2025-01-09 10:00:00',
        EndTime: '2025-01-09 10:01:05',
        Token: 'abc',
        SomethingNew: true,
      },
      extra: 'kept',
    });
    expect(parsed.event_type).toBe('hangup');
    if (parsed.event_type !== 'hangup') throw new Error('narrowing');
    expect(parsed.payload.CallType).toBe(0);
    expect(parsed.payload.CallStatus).toBe('2');
    expect(parsed.payload.Extensions).toEqual(['', '', '151']);
    expect(parsed.payload.SomethingNew).toBe(true);
    expect((parsed as Record<string, unknown>).extra).toBe('kept');
    expect(
      telephonyEventSchema.parse({ ...parsed, payload: { ...parsed.payload, CallType: 1 } }).payload.CallType,
    ).toBe(1);
  });

  it('treats blank CallType / times as absent and accepts Extensions as a comma-separated string', () => {
    const parsed = telephonyEventSchema.parse({
      enterprise_number: 367,
      event_type: 'hangup',
      payload: { UniqueId: 1700000000.5, CallType: '', StartTime: '', EndTime: ' ', Extensions: '150, 151' },
    });
    if (parsed.event_type !== 'hangup') throw new Error('narrowing');
    expect(parsed.enterprise_number).toBe('367');
    expect(parsed.payload).toMatchObject({ UniqueId: '1700000000.5', Extensions: ['150', '151'] });
    expect(parsed.payload.CallType).toBeUndefined();
    expect(parsed.payload.StartTime).toBeUndefined();
    expect(parsed.payload.EndTime).toBeUndefined();
  });

  it('rejects unknown event types, a missing UniqueId and malformed times', () => {
    const base = { enterprise_number: '0367', event_type: 'dial', payload: { UniqueId: 'u1' } };
    expect(telephonyEventSchema.safeParse(base).success).toBe(true);
    expect(telephonyEventSchema.safeParse({ ...base, event_type: 'start' }).success).toBe(true);
    expect(telephonyEventSchema.safeParse({ ...base, event_type: 'ring' }).success).toBe(false);
    expect(telephonyEventSchema.safeParse({ ...base, payload: {} }).success).toBe(false);
    expect(telephonyEventSchema.safeParse({ ...base, enterprise_number: '' }).success).toBe(false);
    expect(
      telephonyEventSchema.safeParse({
        ...base,
        event_type: 'hangup',
        payload: { UniqueId: 'u', StartTime: '09.01.2025 10:00' },
      }).success,
    ).toBe(false);
    for (const stamp of [
      '2025-01-09 10:00:00',
      '2025-01-09T10:00:00',
      '2025-01-09T10:00:00+03:00',
      '2025-01-09T07:00:00Z',
      1736406000,
    ]) {
      expect(
        telephonyEventSchema.safeParse({ ...base, event_type: 'hangup', payload: { UniqueId: 'u', StartTime: stamp } })
          .success,
      ).toBe(true);
    }
    expect(telephonyEventSchema.safeParse({ ...base, payload: { UniqueId: 'u', CallType: 'x' } }).success).toBe(false);
  });
});

describe('mapping rules of the original system', () => {
  it('an internal number is 2–5 digits', () => {
    expect(['15', '151', '15100', ' 151 '].map(isInternalNumber)).toEqual([true, true, true, true]);
    expect(['1', '151000', '+79001234567', 'SIP/151', '', undefined].map(isInternalNumber)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('direction: CallType first, then internal/external heuristics, default in', () => {
    expect(deriveDirection({ CallType: 0, CallerIDNum: '151', Phone: '79001234567' })).toBe('in');
    expect(deriveDirection({ CallType: 1, CallerIDNum: '79001234567', Extensions: ['151'] })).toBe('out');
    expect(deriveDirection({ CallerIDNum: '151', Phone: '79001234567' })).toBe('out');
    expect(deriveDirection({ CallType: 2, CallerIDNum: '151', ConnectedLineNum: '79001234567' })).toBe('out');
    expect(deriveDirection({ CallerIDNum: '79001234567', Extensions: ['151'] })).toBe('in');
    expect(deriveDirection({ CallerIDNum: '151', Phone: '152' })).toBe('in');
    expect(deriveDirection({})).toBe('in');
  });

  it('phone = Phone || CallerIDNum || ConnectedLineNum', () => {
    expect(derivePhone({ Phone: '7900', CallerIDNum: '151' })).toBe('7900');
    expect(derivePhone({ Phone: ' ', CallerIDNum: '7901', ConnectedLineNum: '7902' })).toBe('7901');
    expect(derivePhone({ ConnectedLineNum: '7902' })).toBe('7902');
    expect(derivePhone({})).toBeUndefined();
  });

  it('manager code: first internal number of CallerIDNum, then Extensions, then ConnectedLineNum', () => {
    expect(deriveManagerCode({ CallerIDNum: '150', Extensions: ['151'] })).toBe('150');
    expect(deriveManagerCode({ CallerIDNum: '79001234567', Extensions: ['', '151', '152'] })).toBe('151');
    expect(deriveManagerCode({ CallerIDNum: '79001234567', Extensions: [''], ConnectedLineNum: '153' })).toBe('153');
    expect(deriveManagerCode({ CallerIDNum: '79001234567', Extensions: [''] })).toBeUndefined();
    expect(internalExtensions(['151', '', '151', '79001234567', '152'])).toEqual(['151', '152']);
  });

  it('user_extensions reverse ignores null assignments', () => {
    const map = userIdByExtension({ '19': '150', '18': '151', '22': null });
    expect(Object.fromEntries(map)).toEqual({ '150': 19, '151': 18 });
  });

  it('duration, answered status and idempotency key', () => {
    expect(durationSeconds('2025-01-09 10:00:00', '2025-01-09 10:01:05')).toBe(65);
    expect(durationSeconds('2025-01-09 23:59:50', '2025-01-10 00:00:10')).toBe(20);
    expect(durationSeconds('2025-01-09 10:00:10', '2025-01-09 10:00:00')).toBe(0);
    expect(durationSeconds(undefined, '2025-01-09 10:00:00')).toBeUndefined();
    expect(isAnswered('2')).toBe(true);
    expect(isAnswered('0')).toBe(false);
    expect(isAnswered(undefined)).toBe(false);
    expect(idempotencyKey('0367', '1700.1', 'hangup')).toBe('0367|1700.1|hangup');
  });
});
