import { describe, expect, it } from 'vitest';
import { InvalidTargetError } from './errors.js';
import { fillTelegramPeer, resolveTelegramTarget, telegramTargetKey, telegramTargetToWire } from './telegram-target.js';

describe('resolveTelegramTarget', () => {
  it('follows peer_id -> telegram_user_id -> username -> me', () => {
    const all = { peer_id: 11, telegram_user_id: 22, username: '@someuser', to: 'me' };
    expect(resolveTelegramTarget(all)).toEqual({ kind: 'peer_id', id: '11' });
    expect(resolveTelegramTarget({ ...all, peer_id: undefined })).toEqual({ kind: 'telegram_user_id', id: '22' });
    expect(resolveTelegramTarget({ ...all, peer_id: null, telegram_user_id: undefined })).toEqual({
      kind: 'username',
      username: 'someuser',
    });
    expect(resolveTelegramTarget({ to: 'me' })).toEqual({ kind: 'me' });
    expect(resolveTelegramTarget({ to: 'ME' })).toEqual({ kind: 'me' });
  });

  it.each([
    [100200300, { kind: 'peer_id', id: '100200300' }],
    ['100200300', { kind: 'peer_id', id: '100200300' }],
    ['-1001234567890', { kind: 'peer_id', id: '-1001234567890' }],
    ['someuser', { kind: 'username', username: 'someuser' }],
    ['@Some_User', { kind: 'username', username: 'Some_User' }],
  ])('to=%j', (to, expected) => {
    expect(resolveTelegramTarget({ to })).toEqual(expected);
  });

  it.each([[{}], [{ to: '' }], [{ to: '@' }], [{ to: 'bad name' }], [{ peer_id: 'abc' }], [{ to: 'ab' }]])(
    'rejects %j instead of defaulting to "me"',
    (input) => {
      expect(() => resolveTelegramTarget(input)).toThrow(InvalidTargetError);
    },
  );

  it('keeps ids beyond 2^53 exact', () => {
    const target = resolveTelegramTarget({ to: '-1009007199254740993' });
    expect(telegramTargetToWire(target)).toBe('-1009007199254740993');
    expect(telegramTargetToWire(resolveTelegramTarget({ to: '42' }))).toBe(42);
  });

  it('has case-insensitive username keys', () => {
    expect(telegramTargetKey(resolveTelegramTarget({ to: '@SomeUser' }))).toBe('someuser');
  });
});

describe('fillTelegramPeer', () => {
  it('fills peer from telegram_user_id when absent', () => {
    expect(fillTelegramPeer({ telegram_user_id: '555' })).toEqual({ telegram_user_id: '555', peer: '555' });
    expect(fillTelegramPeer({ peer_id: '7', telegram_user_id: '555' })).toMatchObject({ peer: '7' });
    expect(fillTelegramPeer({ peer: '1', telegram_user_id: '555' })).toMatchObject({ peer: '1' });
    expect(fillTelegramPeer({})).toEqual({});
  });
});
