import { describe, expect, it } from 'vitest';
import {
  connectLink,
  getOrCreateTenantKey,
  InMemoryTenantKeyStore,
  KeyAlreadyExistsError,
  verifyTenantKey,
} from './tenant-keys.js';

describe('tenant keys (1 tenant = 1 key)', () => {
  it('get-or-create returns the same key; a second create is 409 key_already_exists', async () => {
    const store = new InMemoryTenantKeyStore();
    let n = 0;
    const gen = () => `key-${++n}`;
    const key = await getOrCreateTenantKey(store, 1, gen);
    expect(await getOrCreateTenantKey(store, 1, gen)).toBe(key);
    const error = await store.create(1, 'other').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyAlreadyExistsError);
    expect(error).toMatchObject({ code: 'key_already_exists', httpStatus: 409 });
    // a new key only after deleting the current one
    expect(await store.delete(1)).toBe(true);
    expect(await getOrCreateTenantKey(store, 1, gen)).not.toBe(key);
  });

  it('concurrent first calls agree on one key', async () => {
    const store = new InMemoryTenantKeyStore();
    let n = 0;
    const keys = await Promise.all(Array.from({ length: 10 }, () => getOrCreateTenantKey(store, 2, () => `k${++n}`)));
    expect(new Set(keys).size).toBe(1);
  });

  it('verifies k per tenant and builds the client link', async () => {
    const store = new InMemoryTenantKeyStore();
    const key = await getOrCreateTenantKey(store, 3);
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await verifyTenantKey(store, 3, key)).toBe(true);
    expect(await verifyTenantKey(store, 4, key)).toBe(false);
    expect(await verifyTenantKey(store, 3, undefined)).toBe(false);
    expect(connectLink('https://hub.example.com/', 3, 'a+b')).toBe(
      'https://hub.example.com/connect/wa?tenant=3&k=a%2Bb',
    );
  });
});
