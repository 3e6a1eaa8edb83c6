import type { AvitoChatCache, AvitoTokenStore, AvitoTokens } from '../adapters/avito-stores.js';
import type { ProviderTokenStore } from '../auth.js';
import type { InboundDedup, InboundKey } from '../dedup.js';
import { ErrorCodes, isMessengerContractError } from '../errors.js';
import { getOrCreateTenantKey, type TenantKeyStore } from '../tenant-keys.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

/** The parts of vitest (or jest) the suites use; passed in so this module does not depend on a test runner. */
export interface StoreSuiteApi {
  /** Groups the suite's tests. */
  describe(name: string, fn: () => void): void;
  /** Declares one test, with an optional timeout in ms. */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The runner's `expect` (the suites use `toBe`, `toEqual`, `toHaveLength`, `toBeUndefined`, `not`). */
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic.
  expect: (value: unknown) => any;
  /** Runs after each test (the suites dispose their stores there). */
  afterEach(fn: () => Promise<void>): void;
}

/** A store made for one test, and how to release what it opened (a connection, a database). */
export interface StoreUnderTest<T> {
  /** The store under test. */
  store: T;
  /** Called after the test. */
  dispose?(): Promise<void>;
}

/**
 * Makes a fresh store for one test: the store itself, or `{store, dispose}`. Stores may share their backing
 * database between tests: every test uses tenants of its own and never counts what it did not write.
 */
export type StoreFactory<T> = () => T | StoreUnderTest<T> | Promise<T | StoreUnderTest<T>>;

/** What {@link registerInboundDedupSuite} asks its factory for. */
export interface InboundDedupSuiteOptions {
  /** How long a claim lives; give it to the store. */
  ttlMs: number;
  /** The suite's clock; a store that takes a clock uses it (see {@link InboundDedupSuiteSettings.realTime}). */
  clock: ManualClock;
}

/** Makes a fresh InboundDedup for one test with the suite's TTL and clock. */
export type InboundDedupFactory = (
  options: InboundDedupSuiteOptions,
) => InboundDedup | StoreUnderTest<InboundDedup> | Promise<InboundDedup | StoreUnderTest<InboundDedup>>;

/** Settings of {@link registerInboundDedupSuite}. */
export interface InboundDedupSuiteSettings {
  /**
   * The store keeps time by its own clock (Redis `PX`, a database's `now()`), not the suite's: the expiry test
   * then waits in real time, with a TTL of `realTimeTtlMs`.
   */
  realTime?: boolean;
  /** The TTL of the real-time expiry test (default 300 ms). */
  realTimeTtlMs?: number;
}

const isStoreUnderTest = <T>(made: T | StoreUnderTest<T>): made is StoreUnderTest<T> =>
  typeof made === 'object' && made !== null && 'store' in made && Object.keys(made).every((k) => k in storeKeys);
const storeKeys = { store: true, dispose: true };

/** Opens stores through a factory and disposes them after each test. */
function opener<T>(afterEach: StoreSuiteApi['afterEach']) {
  const open: Array<StoreUnderTest<T>> = [];
  afterEach(async () => {
    for (const made of open.splice(0).reverse()) await made.dispose?.();
  });
  return async (made: T | StoreUnderTest<T> | Promise<T | StoreUnderTest<T>>): Promise<T> => {
    const value = await made;
    const wrapped = isStoreUnderTest(value) ? value : { store: value };
    open.push(wrapped);
    return wrapped.store;
  };
}

/** Tenant ids unique to one test (the server's tables take 32-bit integers). */
const tenants = (): ((n: number) => number) => {
  const base = 100_000_000 + Math.floor(Math.random() * 1_000_000_000);
  const run = base - (base % 100);
  return (n) => run + n;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}
const isKeyAlreadyExists = (error: unknown) =>
  isMessengerContractError(error) && error.code === ErrorCodes.keyAlreadyExists;

/**
 * The {@link TenantKeyStore} conformance suite: one key per tenant (a second `create` is refused with
 * `key_already_exists` and keeps the first key, also when racing), `delete` frees the tenant, tenants never see
 * each other's keys. `registerTenantKeyStoreSuite({describe, it, expect, afterEach}, 'mine', () => new MyStore())`.
 */
export function registerTenantKeyStoreSuite(t: StoreSuiteApi, name: string, factory: StoreFactory<TenantKeyStore>) {
  const { describe, it, expect, afterEach } = t;
  describe(`TenantKeyStore contract: ${name}`, () => {
    const open = opener<TenantKeyStore>(afterEach);

    it('one key per tenant: a second create is refused with key_already_exists and keeps the first', async () => {
      const tenant = tenants();
      const store = await open(factory());
      expect(await store.get(tenant(1))).toBeUndefined();
      await store.create(tenant(1), `key-a-${tenant(1)}`);
      expect(await store.get(tenant(1))).toBe(`key-a-${tenant(1)}`);
      expect(isKeyAlreadyExists(await rejection(store.create(tenant(1), `key-b-${tenant(1)}`)))).toBe(true);
      expect(await store.get(tenant(1))).toBe(`key-a-${tenant(1)}`);
    });

    it('concurrent creates for one tenant: exactly one wins, the others get key_already_exists', async () => {
      const tenant = tenants();
      const store = await open(factory());
      const keys = Array.from({ length: 5 }, (_, i) => `race-${i}-${tenant(2)}`);
      const results = await Promise.all(keys.map((key) => rejection(store.create(tenant(2), key))));
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      expect(results.filter(isKeyAlreadyExists)).toHaveLength(4);
      const winner = keys[results.indexOf(undefined)];
      expect(await store.get(tenant(2))).toBe(winner);
      // getOrCreateTenantKey racing on a fresh tenant: every caller gets the one stored key.
      const got = await Promise.all(
        Array.from({ length: 5 }, (_, i) => getOrCreateTenantKey(store, tenant(3), () => `goc-${i}-${tenant(3)}`)),
      );
      expect(new Set(got).size).toBe(1);
      expect(await store.get(tenant(3))).toBe(got[0]);
    });

    it('delete reports whether a key was deleted and frees the tenant for a new key', async () => {
      const tenant = tenants();
      const store = await open(factory());
      expect(await store.delete(tenant(1))).toBe(false);
      await store.create(tenant(1), `old-${tenant(1)}`);
      expect(await store.delete(tenant(1))).toBe(true);
      expect(await store.get(tenant(1))).toBeUndefined();
      expect(await store.delete(tenant(1))).toBe(false);
      await store.create(tenant(1), `new-${tenant(1)}`);
      expect(await store.get(tenant(1))).toBe(`new-${tenant(1)}`);
    });

    it("tenants are isolated: one tenant's create and delete never touch another's key", async () => {
      const tenant = tenants();
      const store = await open(factory());
      await store.create(tenant(1), `one-${tenant(1)}`);
      expect(await store.get(tenant(2))).toBeUndefined();
      await store.create(tenant(2), `two-${tenant(2)}`);
      expect(await store.get(tenant(1))).toBe(`one-${tenant(1)}`);
      expect(await store.delete(tenant(2))).toBe(true);
      expect(await store.get(tenant(1))).toBe(`one-${tenant(1)}`);
      expect(await store.get(tenant(2))).toBeUndefined();
    });
  });
}

/**
 * The {@link ProviderTokenStore} conformance suite: `ensure` creates a tenant's token once and returns it ever after
 * (also to concurrent callers), `get` sees it, tenants get tokens of their own.
 */
export function registerProviderTokenStoreSuite(
  t: StoreSuiteApi,
  name: string,
  factory: StoreFactory<ProviderTokenStore>,
) {
  const { describe, it, expect, afterEach } = t;
  describe(`ProviderTokenStore contract: ${name}`, () => {
    const open = opener<ProviderTokenStore>(afterEach);

    it('ensure creates the token once and returns the same one after; get sees it', async () => {
      const tenant = tenants();
      const store = await open(factory());
      expect(await store.get(tenant(1))).toBeUndefined();
      const token = await store.ensure(tenant(1));
      expect(typeof token).toBe('string');
      expect(token.length).toBeGreaterThan(0);
      expect(await store.ensure(tenant(1))).toBe(token);
      expect(await store.get(tenant(1))).toBe(token);
    });

    it('concurrent ensure calls for a fresh tenant all return the one stored token', async () => {
      const tenant = tenants();
      const store = await open(factory());
      const tokens = await Promise.all(Array.from({ length: 5 }, () => store.ensure(tenant(1))));
      expect(new Set(tokens).size).toBe(1);
      expect(await store.get(tenant(1))).toBe(tokens[0]);
    });

    it('tenants are isolated: each gets a token of its own', async () => {
      const tenant = tenants();
      const store = await open(factory());
      const one = await store.ensure(tenant(1));
      expect(await store.get(tenant(2))).toBeUndefined();
      const two = await store.ensure(tenant(2));
      expect(two).not.toBe(one);
      expect(await store.get(tenant(1))).toBe(one);
      expect(await store.get(tenant(2))).toBe(two);
    });
  });
}

/**
 * The {@link AvitoTokenStore} conformance suite: `set` replaces the whole record (a field left out is gone, two
 * concurrent sets never mix), what is read is a copy, tenants never see each other's tokens.
 */
export function registerAvitoTokenStoreSuite(t: StoreSuiteApi, name: string, factory: StoreFactory<AvitoTokenStore>) {
  const { describe, it, expect, afterEach } = t;
  describe(`AvitoTokenStore contract: ${name}`, () => {
    const open = opener<AvitoTokenStore>(afterEach);
    const full: AvitoTokens = {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: 1_800_000_000_000,
      userId: 42,
    };

    it('reads back what was set; set replaces the whole record', async () => {
      const tenant = tenants();
      const store = await open(factory());
      expect(await store.get(tenant(1))).toBeUndefined();
      await store.set(tenant(1), full);
      expect(await store.get(tenant(1))).toEqual(full);
      // A client_credentials grant has no refresh token nor user id: the old ones must not survive.
      await store.set(tenant(1), { accessToken: 'access-2', expiresAt: 1_800_000_100_000 });
      expect(await store.get(tenant(1))).toEqual({ accessToken: 'access-2', expiresAt: 1_800_000_100_000 });
    });

    it('stores and returns copies: changing an object after set or get changes nothing stored', async () => {
      const tenant = tenants();
      const store = await open(factory());
      const given = { ...full };
      await store.set(tenant(1), given);
      given.accessToken = 'mutated';
      const read = await store.get(tenant(1));
      expect(read).toEqual(full);
      if (read) read.refreshToken = 'mutated';
      expect(await store.get(tenant(1))).toEqual(full);
    });

    it('concurrent sets leave one whole record, never a mix of two', async () => {
      const tenant = tenants();
      const store = await open(factory());
      const records: AvitoTokens[] = Array.from({ length: 6 }, (_, i) => ({
        accessToken: `access-${i}`,
        refreshToken: `refresh-${i}`,
        expiresAt: 1_800_000_000_000 + i,
        userId: i,
      }));
      await Promise.all(records.map((r) => store.set(tenant(1), r)));
      const stored = await store.get(tenant(1));
      expect(records.some((r) => JSON.stringify(r) === JSON.stringify(stored))).toBe(true);
    });

    it("tenants are isolated: one tenant's set never touches another's tokens", async () => {
      const tenant = tenants();
      const store = await open(factory());
      await store.set(tenant(1), full);
      expect(await store.get(tenant(2))).toBeUndefined();
      await store.set(tenant(2), { accessToken: 'other', expiresAt: 1 });
      expect(await store.get(tenant(1))).toEqual(full);
      expect(await store.get(tenant(2))).toEqual({ accessToken: 'other', expiresAt: 1 });
    });
  });
}

/**
 * The {@link AvitoChatCache} conformance suite: the last chat set for (tenant, user) is read back; users and tenants
 * never see each other's chats.
 */
export function registerAvitoChatCacheSuite(t: StoreSuiteApi, name: string, factory: StoreFactory<AvitoChatCache>) {
  const { describe, it, expect, afterEach } = t;
  describe(`AvitoChatCache contract: ${name}`, () => {
    const open = opener<AvitoChatCache>(afterEach);

    it('reads back the last chat set for a user', async () => {
      const tenant = tenants();
      const cache = await open(factory());
      expect(await cache.get(tenant(1), 'u1')).toBeUndefined();
      await cache.set(tenant(1), 'u1', 'chat-a');
      expect(await cache.get(tenant(1), 'u1')).toBe('chat-a');
      await cache.set(tenant(1), 'u1', 'chat-b');
      expect(await cache.get(tenant(1), 'u1')).toBe('chat-b');
    });

    it('users and tenants are isolated: the same user id under another tenant is another entry', async () => {
      const tenant = tenants();
      const cache = await open(factory());
      await cache.set(tenant(1), 'u1', 'chat-1');
      expect(await cache.get(tenant(1), 'u2')).toBeUndefined();
      expect(await cache.get(tenant(2), 'u1')).toBeUndefined();
      await cache.set(tenant(2), 'u1', 'chat-2');
      await cache.set(tenant(1), 'u2', 'chat-3');
      expect(await cache.get(tenant(1), 'u1')).toBe('chat-1');
      expect(await cache.get(tenant(2), 'u1')).toBe('chat-2');
      expect(await cache.get(tenant(1), 'u2')).toBe('chat-3');
    });
  });
}

/**
 * The {@link InboundDedup} conformance suite: a key is claimed once (exactly one winner among concurrent claims),
 * `release` lets it be claimed again, tenant, provider and message id each tell keys apart (no collision through
 * separators), a claim is forgotten after its TTL. A store on its own clock passes `{realTime: true}`:
 * `registerInboundDedupSuite(api, 'redis', ({ttlMs}) => new RedisInboundDedup(redis, {ttlMs}), {realTime: true})`.
 */
export function registerInboundDedupSuite(
  t: StoreSuiteApi,
  name: string,
  factory: InboundDedupFactory,
  settings: InboundDedupSuiteSettings = {},
) {
  const { describe, it, expect, afterEach } = t;
  describe(`InboundDedup contract: ${name}`, () => {
    const open = opener<InboundDedup>(afterEach);
    const make = (ttlMs = 3_600_000, clock = createManualClock()) => open(factory({ ttlMs, clock }));
    const keyOf = (tenant: number, provider: string, message_id: string): InboundKey => ({
      tenant,
      provider,
      message_id,
    });

    it('claims a key once; release lets it be claimed again; releasing an unclaimed key is harmless', async () => {
      const tenant = tenants();
      const dedup = await make();
      const key = keyOf(tenant(1), 'whatsapp', 'wamid.1');
      expect(await dedup.claim(key)).toBe(true);
      expect(await dedup.claim(key)).toBe(false);
      expect(await dedup.claim({ ...key })).toBe(false);
      await dedup.release(key);
      expect(await dedup.claim(key)).toBe(true);
      await dedup.release(keyOf(tenant(1), 'whatsapp', 'never-claimed'));
      expect(await dedup.claim(key)).toBe(false);
      expect(await dedup.claim(keyOf(tenant(1), 'whatsapp', 'never-claimed'))).toBe(true);
    });

    it('exactly one winner among concurrent claims of one key', async () => {
      const tenant = tenants();
      const dedup = await make();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => dedup.claim(keyOf(tenant(1), 'telegram', 'race'))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('tenant, provider and message id each tell keys apart, with no collision through separators', async () => {
      const tenant = tenants();
      const dedup = await make();
      expect(await dedup.claim(keyOf(tenant(1), 'avito', 'm1'))).toBe(true);
      // Another tenant's identical message is its own (tenant isolation).
      expect(await dedup.claim(keyOf(tenant(2), 'avito', 'm1'))).toBe(true);
      expect(await dedup.claim(keyOf(tenant(1), 'telegram', 'm1'))).toBe(true);
      expect(await dedup.claim(keyOf(tenant(1), 'avito', 'm2'))).toBe(true);
      expect(await dedup.claim(keyOf(tenant(1), 'a:b', 'c'))).toBe(true);
      expect(await dedup.claim(keyOf(tenant(1), 'a', 'b:c'))).toBe(true);
      // Releasing one tenant's key leaves the other tenant's claim in place.
      await dedup.release(keyOf(tenant(2), 'avito', 'm1'));
      expect(await dedup.claim(keyOf(tenant(1), 'avito', 'm1'))).toBe(false);
    });

    if (settings.realTime) {
      const ttlMs = settings.realTimeTtlMs ?? 300;
      it(
        'a claim is forgotten after its TTL (real time)',
        async () => {
          const tenant = tenants();
          const dedup = await make(ttlMs);
          const key = keyOf(tenant(1), 'avito', 'ttl');
          expect(await dedup.claim(key)).toBe(true);
          expect(await dedup.claim(key)).toBe(false);
          await sleep(ttlMs + 100);
          expect(await dedup.claim(key)).toBe(true);
          expect(await dedup.claim(key)).toBe(false);
        },
        ttlMs * 10 + 10_000,
      );
    } else {
      it('a claim is forgotten exactly at its TTL (manual clock)', async () => {
        const tenant = tenants();
        const clock = createManualClock();
        const dedup = await make(1000, clock);
        const key = keyOf(tenant(1), 'avito', 'ttl');
        expect(await dedup.claim(key)).toBe(true);
        clock.advance(999);
        expect(await dedup.claim(key)).toBe(false);
        clock.advance(1);
        expect(await dedup.claim(key)).toBe(true);
        // The new claim has a TTL of its own, counted from now.
        clock.advance(999);
        expect(await dedup.claim(key)).toBe(false);
        clock.advance(1);
        expect(await dedup.claim(key)).toBe(true);
      });
    }
  });
}
