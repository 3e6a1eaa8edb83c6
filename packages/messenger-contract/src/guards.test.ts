import { describe, expect, it } from 'vitest';
import { checkOutboxGuards, isWhitelisted, parseWhitelist } from './guards.js';
import { resolveTarget } from './normalise.js';

const wa = (to: string) => resolveTarget('whatsapp', to);
const tg = (to: string | number) => resolveTarget('telegram', to);

describe('parseWhitelist / isWhitelisted', () => {
  const list = parseWhitelist('+79991234567, 100200300 @SomeUser\n79990000000@c.us 123456789012345@lid u2i-chat~1');

  it.each([
    [wa('+79991234567'), true],
    [wa('89991234567'), true],
    [wa('79991234567@c.us'), true],
    [wa('79990000000'), true],
    [wa('123456789012345@lid'), true],
    [wa('79991111111'), false],
    [wa('555555555555@lid'), false],
    [tg(100200300), true],
    [tg('100200300'), true],
    [tg('someuser'), true],
    [tg('@SOMEUSER'), true],
    [tg('other_user'), false],
    [tg('me'), false],
    [resolveTarget('avito', 'u2i-chat~1'), true],
    [resolveTarget('avito', 'u2i-other'), false],
  ])('%j -> %s', (target, allowed) => {
    expect(isWhitelisted(list, target)).toBe(allowed);
  });

  it('empty means deny all; * allows all', () => {
    expect(isWhitelisted(parseWhitelist(''), wa('+79991234567'))).toBe(false);
    expect(isWhitelisted(parseWhitelist(undefined), tg('me'))).toBe(false);
    expect(isWhitelisted(parseWhitelist('*'), tg('me'))).toBe(true);
    expect(isWhitelisted(parseWhitelist(['100', '*']), wa('+79991234567'))).toBe(true);
  });

  it('a negative Telegram chat id is not read as a phone number', () => {
    const list = parseWhitelist('-1001234567890');
    expect(isWhitelisted(list, tg('-1001234567890'))).toBe(true);
    expect(isWhitelisted(list, tg('1001234567890'))).toBe(false);
    expect(isWhitelisted(list, wa('+1001234567890'))).toBe(false);
  });

  it('is one flat list shared by all channels', () => {
    // Telegram id 79991234567 and WhatsApp number 79991234567 share a key; documented: one flat list.
    expect(isWhitelisted(parseWhitelist('79991234567'), tg(79991234567))).toBe(true);
  });
});

describe('checkOutboxGuards', () => {
  const config = { enabled: true, whitelist: parseWhitelist('*') };

  it('disabled outbox -> 403 outbox_disabled, before anything else', () => {
    expect(checkOutboxGuards({ ...config, enabled: false }, { target: tg('me'), lead: 'missing' })).toEqual({
      allowed: false,
      code: 'outbox_disabled',
      httpStatus: 403,
      reason: 'outbox_disabled',
    });
  });

  it('not on the whitelist -> 403 not_whitelisted (log reason whitelist_miss)', () => {
    expect(checkOutboxGuards({ enabled: true, whitelist: parseWhitelist('') }, { target: wa('+79991234567') })).toEqual(
      { allowed: false, code: 'not_whitelisted', httpStatus: 403, reason: 'whitelist_miss' },
    );
  });

  it('no lead -> err:no_lead without delivery', () => {
    expect(checkOutboxGuards(config, { target: tg(1), lead: 'missing' })).toMatchObject({
      allowed: false,
      code: 'err:no_lead',
    });
  });

  it('lead store unavailable (degraded mode) -> allowed with an err:no_lead warning', () => {
    expect(checkOutboxGuards(config, { target: tg(1), lead: 'unknown' })).toEqual({
      allowed: true,
      warnings: [{ code: 'err:no_lead', message: expect.any(String) }],
    });
  });

  it('allows a found lead or an unchecked one', () => {
    expect(checkOutboxGuards(config, { target: tg(1), lead: 'found' })).toEqual({ allowed: true, warnings: [] });
    expect(checkOutboxGuards(config, { target: tg(1) })).toEqual({ allowed: true, warnings: [] });
  });
});
