import { describe, expect, it } from 'vitest';
import { InvalidTargetError } from './errors.js';
import { normaliseWhatsAppAddress, whatsAppAddressKey } from './whatsapp-address.js';

describe('normaliseWhatsAppAddress (human input)', () => {
  it.each([
    ['+79991234567', '79991234567'],
    ['+7 (999) 123-45-67', '79991234567'],
    ['79991234567', '79991234567'],
    ['89991234567', '79991234567'],
    ['8 999 123 45 67', '79991234567'],
    ['8(999)123-45-67', '79991234567'],
    ['88001234567', '78001234567'],
    ['0079991234567', '79991234567'],
    ['+8613800138000', '8613800138000'], // China, international: never rewritten
    ['81312345678', '81312345678'], // 11 digits starting with 8 but not a valid RU number: kept
    ['4915123456789', '4915123456789'],
    ['14155552671', '14155552671'],
    ['79991234567@c.us', '79991234567'],
    ['79991234567@s.whatsapp.net', '79991234567'],
    ['79991234567:12@s.whatsapp.net', '79991234567'],
    [79991234567, '79991234567'],
  ])('%s -> %s', (input, digits) => {
    const address = normaliseWhatsAppAddress(input);
    expect(address).toEqual({ kind: 'phone', digits, e164: `+${digits}`, jid: `${digits}@c.us` });
  });

  it('does not apply the RU default to JID digits (already international)', () => {
    // 8XXXXXXXXXX inside a JID is a foreign number, not a national Russian one.
    expect(normaliseWhatsAppAddress('89991234567@c.us')).toMatchObject({ digits: '89991234567' });
  });

  it('does not apply the RU default to wire input', () => {
    expect(normaliseWhatsAppAddress('89991234567', { source: 'wire' })).toMatchObject({ digits: '89991234567' });
  });

  it.each([
    ['123456789012345@lid', 'lid'],
    ['120363025246125486@g.us', 'group'],
    ['79991234567-1600000000@g.us', 'group'],
  ])('keeps %s as-is (%s), never turned into a phone', (input, kind) => {
    expect(normaliseWhatsAppAddress(input)).toEqual({ kind, jid: input });
  });

  it.each([
    '',
    '   ',
    '12345',
    '1234567890123456',
    'abc',
    '+7999abc4567',
    'someone@example.com',
    'status@broadcast',
    '@c.us',
    'abc@c.us',
    '0123456789',
  ])('rejects %j', (input) => {
    expect(() => normaliseWhatsAppAddress(input)).toThrow(InvalidTargetError);
  });

  it('masks the input in the error', () => {
    try {
      normaliseWhatsAppAddress('+7999123456789012');
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidTargetError).input).not.toContain('79991234');
      expect((error as InvalidTargetError).message).not.toContain('79991234');
    }
  });

  it('gives one comparable key per number', () => {
    const keys = ['+79991234567', '89991234567', '79991234567@s.whatsapp.net'].map((v) =>
      whatsAppAddressKey(normaliseWhatsAppAddress(v)),
    );
    expect(new Set(keys)).toEqual(new Set(['79991234567']));
  });
});
