import type { SettingsResponse } from '@callbridge/retailcrm-client';
import { describe, expect, it } from 'vitest';
import { type AccountRef, createAccountTimeZones } from './account-time-zone.js';

const account: AccountRef = { domain: 'https://shop.retailcrm.ru', api_key: 'key-0123456789abcdef' };
const answer = (zone?: string): SettingsResponse => ({
  success: true,
  settings: zone ? { timezone: { value: zone } } : {},
});

function setup(options: { firstReadWaitMs?: number } = {}) {
  let now = 0;
  const warnings: Array<{ obj: object; msg?: string }> = [];
  const reads: AccountRef[] = [];
  let next: () => Promise<SettingsResponse> = async () => answer('Asia/Vladivostok');
  const zones = createAccountTimeZones({
    readSettings: (a) => {
      reads.push(a);
      return next();
    },
    logger: { warn: ((obj: object, msg?: string) => warnings.push({ obj, msg })) as never },
    clock: { now: () => now },
    ttlMs: 3_600_000,
    retryAfterMs: 60_000,
    ...options,
  });
  return {
    zones,
    warnings,
    reads,
    answer: (fn: () => Promise<SettingsResponse>) => {
      next = fn;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('account time zones (GET /api/v5/settings, cached per account)', () => {
  it("waits for an account's first read, then answers from the cache for the TTL", async () => {
    const t = setup();
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok');
    t.advance(3_599_000);
    expect(await t.zones.get('0368', account)).toBe('Asia/Vladivostok');
    expect(t.reads).toHaveLength(1);
  });

  it('after the TTL answers the stale zone at once and reads the new one in the background', async () => {
    const t = setup();
    await t.zones.get('0367', account);
    t.advance(3_600_000);
    let release: (value: SettingsResponse) => void = () => {};
    t.answer(() => new Promise((resolve) => (release = resolve)));
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok');
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok'); // one read in flight, not two
    expect(t.reads).toHaveLength(2);
    release(answer('Europe/Moscow'));
    await settle();
    expect(await t.zones.get('0367', account)).toBe('Europe/Moscow');
  });

  it('a failing read falls back (undefined), warns once per failure streak, never throws, retries a minute later', async () => {
    const t = setup();
    t.answer(async () => {
      throw Object.assign(new Error('Wrong "apiKey" value.'), { code: 'forbidden' });
    });
    expect(await t.zones.get('0367', account)).toBeUndefined();
    expect(await t.zones.get('0367', account)).toBeUndefined();
    expect(t.reads).toHaveLength(1);
    t.advance(60_000);
    expect(await t.zones.get('0367', account)).toBeUndefined();
    expect(t.reads).toHaveLength(2);
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]?.obj).toMatchObject({
      enterprise: '0367',
      domain: 'https://shop.retailcrm.ru',
      err: { code: 'forbidden', message: 'Wrong "apiKey" value.' },
    });
    expect(t.warnings[0]?.msg).toMatch(/settings/);
    // The key never reaches the log.
    expect(JSON.stringify(t.warnings)).not.toContain(account.api_key);
    // Recovery, then a new failure: warned again (a new streak), the last known zone kept meanwhile.
    t.answer(async () => answer('Asia/Vladivostok'));
    t.advance(60_000);
    // Only an account's first read is waited for: this one lands in the background.
    expect(await t.zones.get('0367', account)).toBeUndefined();
    await settle();
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok');
    t.answer(async () => {
      throw new Error('timeout');
    });
    t.advance(3_600_000);
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok');
    await settle();
    expect(await t.zones.get('0367', account)).toBe('Asia/Vladivostok');
    expect(t.warnings).toHaveLength(2);
    expect(t.warnings[1]?.obj).toMatchObject({ lastKnown: 'Asia/Vladivostok' });
  });

  it('an account without a timezone setting, or with an unknown zone, is a failure (configured zone applies)', async () => {
    for (const zone of [undefined, 'Mars/Olympus']) {
      const t = setup();
      t.answer(async () => answer(zone));
      expect(await t.zones.get('0367', account)).toBeUndefined();
      expect(t.warnings).toHaveLength(1);
    }
  });

  it('the first read holds a caller at most firstReadWaitMs; later callers and wait:false never wait', async () => {
    const t = setup({ firstReadWaitMs: 50 });
    let release: (value: SettingsResponse) => void = () => {};
    t.answer(() => new Promise((resolve) => (release = resolve)));
    const started = Date.now();
    expect(await t.zones.get('0367', account)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await t.zones.get('0367', account, { wait: false })).toBeUndefined();
    release(answer('Asia/Vladivostok'));
    await settle();
    expect(await t.zones.get('0367', account, { wait: false })).toBe('Asia/Vladivostok');
  });

  it('a new key for the same account reads again', async () => {
    const t = setup();
    await t.zones.get('0367', account);
    t.answer(async () => answer('Europe/Moscow'));
    expect(await t.zones.get('0367', { ...account, api_key: 'another-key-0123456789' })).toBe('Europe/Moscow');
    expect(t.reads).toHaveLength(2);
  });
});
