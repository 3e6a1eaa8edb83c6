import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ConfigCache,
  ConfigCacheClosedError,
  ConfigCacheLoadTimeoutError,
  type ConfigCacheOptions,
  createConfigCache,
  createManualInvalidationSource,
  isConfigCacheError,
} from '../src/index.js';
import { deferred, FakeLoader, flush } from './helpers.js';

type Cfg = { v: number };

let caches: Array<ConfigCache<Cfg>> = [];

function make(loader: FakeLoader<Cfg>, options: Partial<ConfigCacheOptions<Cfg>> = {}): ConfigCache<Cfg> {
  // random = 0: refresh-after = 60 s exactly, full refresh period = 192 s (240 s − 20 %).
  const cache = createConfigCache<Cfg>({ loader, random: () => 0, ...options });
  caches.push(cache);
  return cache;
}

/** A cache that has already loaded `k` = `{ v: 1 }` once. */
async function warm(options: Partial<ConfigCacheOptions<Cfg>> = {}) {
  const loader = new FakeLoader<Cfg>();
  loader.data.set('k', { v: 1 });
  const cache = make(loader, options);
  await cache.get('k');
  return { loader, cache };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
});

afterEach(async () => {
  for (const cache of caches) await cache.close();
  caches = [];
  vi.useRealTimers();
});

describe('reads', () => {
  it('loads a missing key once, then serves it from memory (get and peek)', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('0367', { v: 1 });
    const cache = make(loader);

    expect(cache.peek('0367')).toBeUndefined();
    await expect(cache.get('0367')).resolves.toEqual({ v: 1 });
    await expect(cache.get('0367')).resolves.toEqual({ v: 1 });
    expect(cache.peek('0367')).toEqual({ v: 1 });
    expect(loader.loads).toEqual(['0367']);
    expect(cache.keys()).toEqual(['0367']);
    const m = cache.metrics();
    expect(m).toMatchObject({ hits: 2, misses: 2, loadsOk: 1, size: 1 });
    expect(m.loadTimeMs.count).toBe(1);
  });

  it('single-flight: 1000 concurrent readers of a missing key cause one load', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 7 });
    const gate = deferred<void>();
    loader.gates.push(gate);
    const cache = make(loader);

    const reads = Array.from({ length: 1000 }, () => cache.get('k'));
    await flush();
    gate.resolve();
    const values = await Promise.all(reads);
    expect(values.every((value) => value?.v === 7)).toBe(true);
    expect(loader.loads).toEqual(['k']);
    expect(cache.metrics().misses).toBe(1000);
  });

  it('peek never loads, and keys() lists only entries that have not expired', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    loader.data.set('b', { v: 1 });
    const cache = make(loader, { graceMs: 0 });
    expect(cache.peek('a')).toBeUndefined();
    await flush();
    expect(loader.loads).toEqual([]);
    await cache.get('a');
    await vi.advanceTimersByTimeAsync(30_000);
    await cache.get('b');
    expect(cache.keys().sort()).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(30_000); // a reaches its 60 s, b is at 30 s
    expect(cache.keys()).toEqual(['b']);
    // metrics().size follows the same rule; the expired entry still held is reported apart.
    expect(cache.metrics()).toMatchObject({ size: 1, expiredSize: 1 });
    expect(cache.peek('a')).toBeUndefined();
    await flush();
    expect(loader.loads).toEqual(['a', 'b']);
  });

  it('a failed load rejects every waiter and is not cached', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 1 });
    loader.failNext.push(new Error('db down'));
    const cache = make(loader);

    await expect(Promise.all([cache.get('k'), cache.get('k')])).rejects.toThrow('db down');
    expect(cache.metrics().loadsFailed).toBe(1);
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    expect(loader.loads).toEqual(['k', 'k']);
  });
});

describe('refresh-after / expire-after', () => {
  it('serves fresh until refresh-after, then stale with exactly one background reload', async () => {
    const { loader, cache } = await warm({ graceMs: 30_000 });

    await vi.advanceTimersByTimeAsync(59_999);
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    expect(loader.loads).toHaveLength(1);

    loader.data.set('k', { v: 2 });
    const gate = deferred<void>();
    loader.gates.push(gate);
    await vi.advanceTimersByTimeAsync(1);
    // Stale window: old value, without waiting, and a single reload for many readers.
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    expect(cache.peek('k')).toEqual({ v: 1 });
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    expect(loader.loads).toHaveLength(2);
    expect(cache.metrics().staleHits).toBe(3);

    gate.resolve();
    await flush();
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
    expect(loader.loads).toHaveLength(2);
  });

  it('jitters refresh-after inside [min, max]', async () => {
    const { loader, cache } = await warm({ random: () => 0.5, graceMs: 0 });
    await vi.advanceTimersByTimeAsync(89_999); // 60 s + 0.5 × 60 s = 90 s
    await cache.get('k');
    expect(loader.loads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await cache.get('k');
    expect(loader.loads).toHaveLength(2);
  });

  it('after expire-after a read waits for the load (no stale value)', async () => {
    const { loader, cache } = await warm({ graceMs: 10_000 });
    loader.data.set('k', { v: 2 });
    await vi.advanceTimersByTimeAsync(70_000);
    expect(cache.peek('k')).toBeUndefined();
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
    expect(cache.metrics().staleHits).toBe(0);
  });

  it('after expiry a failing loader rejects instead of serving the expired value', async () => {
    const { loader, cache } = await warm({ graceMs: 10_000 });
    await vi.advanceTimersByTimeAsync(70_000);
    loader.failNext.push(new Error('db down'));
    await expect(cache.get('k')).rejects.toThrow('db down');
  });

  it('a failed background reload keeps the stale value and backs off before retrying', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 1 });
    const warn = vi.fn();
    const cache = make(loader, { graceMs: 60_000, refreshRetryMs: 5_000, logger: { warn } });
    await cache.get('k');
    await vi.advanceTimersByTimeAsync(60_000);
    loader.failNext.push(new Error('db down'));
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    await flush();
    expect(loader.loads).toHaveLength(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls[0])).not.toContain('"v"');
    // pino's order: fields first (the error under `err`), message second.
    expect(warn.mock.calls[0]).toEqual([
      { cache: 'config-cache', key: 'k', err: 'db down' },
      'config-cache: background reload failed; serving the stale value',
    ]);

    // Within the retry window: stale value, no new load.
    await vi.advanceTimersByTimeAsync(4_000);
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    expect(loader.loads).toHaveLength(2);
    expect(cache.metrics().hits).toBe(1);

    await vi.advanceTimersByTimeAsync(1_000);
    loader.data.set('k', { v: 3 });
    await expect(cache.get('k')).resolves.toEqual({ v: 1 });
    await flush();
    expect(loader.loads).toHaveLength(3);
    await expect(cache.get('k')).resolves.toEqual({ v: 3 });
    expect(cache.metrics().loadsFailed).toBe(1);
  });

  it('graceMs 0 disables stale-while-revalidate', async () => {
    const { loader, cache } = await warm({ graceMs: 0 });
    loader.data.set('k', { v: 2 });
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
  });
});

describe('load timeout', () => {
  it('a hung loader is aborted, rejects its readers, and does not pin the key', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 1 });
    const hung = deferred<void>();
    loader.gates.push(hung);
    const cache = make(loader, { loadTimeoutMs: 2_000 });

    const first = cache.get('k');
    const assertion = expect(first).rejects.toBeInstanceOf(ConfigCacheLoadTimeoutError);
    await vi.advanceTimersByTimeAsync(2_000);
    await assertion;
    expect(loader.signals[0]?.aborted).toBe(true);
    expect(cache.metrics()).toMatchObject({ loadTimeouts: 1, loadsFailed: 1 });

    loader.data.set('k', { v: 2 });
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
    // The hung load finally answers with its old value: ignored.
    hung.resolve();
    await flush();
    await expect(cache.get('k')).resolves.toEqual({ v: 2 });
    expect(loader.loads).toHaveLength(2);
  });

  it('timeout errors carry a stable code and are retryable', () => {
    const error = new ConfigCacheLoadTimeoutError('k', 5);
    expect(error.code).toBe('load_timeout');
    expect(error.isRetryable).toBe(true);
    expect(isConfigCacheError(error)).toBe(true);
    expect(isConfigCacheError(new ConfigCacheClosedError('c'))).toBe(true);
    expect(isConfigCacheError(new Error('load_timeout'))).toBe(false);
    expect(isConfigCacheError({ code: 'load_timeout', isRetryable: true })).toBe(false);
    expect(error.name).toBe('ConfigCacheLoadTimeoutError');
  });
});

describe('generations', () => {
  it('a load that raced an invalidation never commits its (stale) value', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 1 });
    const gate = deferred<void>();
    loader.gates.push(gate);
    const cache = make(loader);

    const early = cache.get('k'); // reads v1, delivery delayed
    await flush();
    loader.data.set('k', { v: 2 });
    cache.invalidate('k');
    // A reader arriving after the invalidation must not join the old load.
    const late = cache.get('k');
    await expect(late).resolves.toEqual({ v: 2 });
    gate.resolve();
    await expect(early).resolves.toEqual({ v: 1 });
    expect(cache.peek('k')).toEqual({ v: 2 });
    expect(cache.metrics().staleLoadsDiscarded).toBe(1);
  });

  it('invalidateAll also discards in-flight single-key loads', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('k', { v: 1 });
    const gate = deferred<void>();
    loader.gates.push(gate);
    const cache = make(loader);
    const pending = cache.get('k');
    await flush();
    cache.invalidateAll();
    gate.resolve();
    await pending;
    expect(cache.peek('k')).toBeUndefined();
    expect(cache.metrics().size).toBe(0);
  });

  it('a full refresh leaves out keys invalidated while loadAll ran', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    loader.data.set('b', { v: 1 });
    const gate = deferred<void>();
    loader.allGates.push(gate);
    const cache = make(loader);

    const refresh = cache.refreshAll();
    await flush();
    loader.data.set('a', { v: 2 });
    cache.invalidate('a');
    gate.resolve();
    await refresh;
    expect(cache.keys()).toEqual(['b']);
    await expect(cache.get('a')).resolves.toEqual({ v: 2 });
  });

  it('a full refresh that raced invalidateAll loads again', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    const gate = deferred<void>();
    loader.allGates.push(gate);
    const cache = make(loader);
    const refresh = cache.refreshAll();
    await flush();
    loader.data.set('a', { v: 2 });
    cache.invalidateAll();
    gate.resolve();
    await refresh;
    expect(loader.loadAllCalls).toBe(2);
    expect(cache.peek('a')).toEqual({ v: 2 });
  });

  it('a full refresh keeps single-key loads that started after it', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    const gate = deferred<void>();
    loader.allGates.push(gate);
    const cache = make(loader);
    const refresh = cache.refreshAll();
    await flush();
    loader.data.set('a', { v: 2 });
    cache.invalidate('a');
    await expect(cache.get('a')).resolves.toEqual({ v: 2 });
    gate.resolve();
    await refresh;
    expect(cache.peek('a')).toEqual({ v: 2 });
  });
});

describe('negative cache', () => {
  it('remembers unknown keys for negativeTtlMs, bounded by negativeMaxSize', async () => {
    const loader = new FakeLoader<Cfg>();
    const cache = make(loader, { negativeTtlMs: 10_000, negativeMaxSize: 2 });

    await expect(cache.get('x')).resolves.toBeUndefined();
    await expect(cache.get('x')).resolves.toBeUndefined();
    expect(loader.loads).toEqual(['x']);
    expect(cache.metrics()).toMatchObject({ negativeHits: 1, negativeSize: 1 });

    await cache.get('y');
    await cache.get('z'); // evicts x (oldest)
    expect(cache.metrics().negativeSize).toBe(2);
    await cache.get('x');
    expect(loader.loads).toEqual(['x', 'y', 'z', 'x']);

    await vi.advanceTimersByTimeAsync(10_000);
    await cache.get('z');
    expect(loader.loads.at(-1)).toBe('z');
    expect(loader.loads).toHaveLength(5);
  });

  it('an invalidation forgets the negative entry (the key was just created)', async () => {
    const loader = new FakeLoader<Cfg>();
    const cache = make(loader);
    await cache.get('new');
    loader.data.set('new', { v: 1 });
    await expect(cache.get('new')).resolves.toBeUndefined();
    cache.invalidate('new');
    await expect(cache.get('new')).resolves.toEqual({ v: 1 });
  });

  it('negativeTtlMs 0 disables negative caching', async () => {
    const loader = new FakeLoader<Cfg>();
    const cache = make(loader, { negativeTtlMs: 0 });
    await cache.get('x');
    await cache.get('x');
    expect(loader.loads).toEqual(['x', 'x']);
  });
});

describe('concurrency limit', () => {
  it('never runs more than maxConcurrentLoads loader calls at once', async () => {
    const loader = new FakeLoader<Cfg>();
    const gates = Array.from({ length: 6 }, () => deferred<void>());
    loader.gates.push(...gates);
    for (let i = 0; i < 6; i++) loader.data.set(`k${i}`, { v: i });
    const cache = make(loader, { maxConcurrentLoads: 2 });

    const reads = Array.from({ length: 6 }, (_, i) => cache.get(`k${i}`));
    await flush();
    expect(loader.running).toBe(2);
    for (const gate of gates) {
      gate.resolve();
      await flush();
    }
    const values = await Promise.all(reads);
    expect(values.map((value) => value?.v)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(loader.maxRunning).toBe(2);
  });
});

describe('background full refresh', () => {
  it('runs every period with jitter, swaps the snapshot, and drops deleted keys', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    loader.data.set('b', { v: 1 });
    const cache = make(loader);
    await cache.start();
    await cache.get('a');
    await cache.get('b');

    loader.data.delete('b');
    loader.data.set('a', { v: 2 });
    await vi.advanceTimersByTimeAsync(191_999); // random 0 → 240 s − 20 % = 192 s
    expect(loader.loadAllCalls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(loader.loadAllCalls).toBe(1);
    expect(cache.keys()).toEqual(['a']);
    expect(cache.peek('a')).toEqual({ v: 2 });
    expect(cache.metrics().lastFullRefreshAt).toBe(Date.now());
    expect(cache.metrics().fullRefreshes).toBe(1);

    await vi.advanceTimersByTimeAsync(192_000);
    expect(loader.loadAllCalls).toBe(2);
  });

  it('uses the upper jitter bound with random = 1', async () => {
    const loader = new FakeLoader<Cfg>();
    const cache = make(loader, { random: () => 1, fullRefreshIntervalMs: 200_000, fullRefreshJitter: 0.1 });
    await cache.start();
    await vi.advanceTimersByTimeAsync(219_999);
    expect(loader.loadAllCalls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(loader.loadAllCalls).toBe(1);
  });

  it('never overlaps: a slow refresh delays the next one, concurrent refreshAll calls join', async () => {
    const loader = new FakeLoader<Cfg>();
    const gate = deferred<void>();
    loader.allGates.push(gate);
    const cache = make(loader, { fullRefreshTimeoutMs: 0 });
    await cache.start();
    await vi.advanceTimersByTimeAsync(192_000);
    expect(loader.loadAllCalls).toBe(1);
    const manual = cache.refreshAll();
    await vi.advanceTimersByTimeAsync(500_000);
    expect(loader.loadAllCalls).toBe(1);
    expect(loader.maxRunning).toBe(1);
    gate.resolve();
    await manual;
    await vi.advanceTimersByTimeAsync(191_999);
    expect(loader.loadAllCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(loader.loadAllCalls).toBe(2);
  });

  it('a failed refresh keeps the old snapshot and retries with capped backoff', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    const cache = make(loader, {
      fullRefreshBackoff: { minMs: 1_000, maxMs: 4_000 },
      refreshAfterMinMs: 3_600_000,
      refreshAfterMaxMs: 3_600_000,
    });
    await cache.refreshAll();
    await cache.start();
    loader.failNextAll.push(new Error('db down'), new Error('db down'), new Error('db down'), new Error('db down'));

    await vi.advanceTimersByTimeAsync(192_000);
    expect(loader.loadAllCalls).toBe(2);
    expect(cache.peek('a')).toEqual({ v: 1 });
    expect(cache.metrics()).toMatchObject({ fullRefreshFailures: 1, lastFullRefreshError: 'db down' });
    // random 0 → equal jitter gives half of 1 s, 2 s, 4 s (capped) ...
    await vi.advanceTimersByTimeAsync(500);
    expect(loader.loadAllCalls).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(loader.loadAllCalls).toBe(4);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(loader.loadAllCalls).toBe(5);
    await vi.advanceTimersByTimeAsync(2_000); // capped at 4 s → 2 s
    expect(loader.loadAllCalls).toBe(6);
    expect(cache.metrics().lastFullRefreshError).toBeNull();
    // Back to the normal period after a success.
    await vi.advanceTimersByTimeAsync(191_999);
    expect(loader.loadAllCalls).toBe(6);
    await vi.advanceTimersByTimeAsync(1);
    expect(loader.loadAllCalls).toBe(7);
  });

  it('a hung loadAll times out and is retried', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.allGates.push(deferred<void>());
    const cache = make(loader, { fullRefreshTimeoutMs: 5_000 });
    const refresh = cache.refreshAll();
    const assertion = expect(refresh).rejects.toBeInstanceOf(ConfigCacheLoadTimeoutError);
    await vi.advanceTimersByTimeAsync(5_000);
    await assertion;
    await expect(cache.refreshAll()).resolves.toBeUndefined();
  });
});

describe('invalidation source', () => {
  it('applies key and all-key invalidations and resyncs after a reconnect', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    loader.data.set('b', { v: 1 });
    const source = createManualInvalidationSource();
    const cache = make(loader, { invalidation: source });
    expect(cache.metrics().listenerConnected).toBe(false);
    await cache.start();
    expect(cache.metrics().listenerConnected).toBe(true);
    await cache.get('a');
    await cache.get('b');

    loader.data.set('a', { v: 2 });
    source.emit({ key: 'a', payload: '{"enterprise_number":"a"}' });
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toEqual({ v: 1 });
    await expect(cache.get('a')).resolves.toEqual({ v: 2 });

    source.emit({ payload: '' });
    expect(cache.keys()).toEqual([]);

    await cache.get('a');
    loader.data.set('a', { v: 3 });
    source.setConnected(false);
    expect(cache.metrics().listenerConnected).toBe(false);
    source.setConnected(true);
    source.resync();
    expect(cache.peek('a')).toBeUndefined(); // nothing stale survives a resync
    await flush();
    expect(loader.loadAllCalls).toBe(1);
    expect(cache.peek('a')).toEqual({ v: 3 });
    expect(cache.metrics()).toMatchObject({ resyncs: 1, invalidations: 1, invalidationsAll: 2 });
  });

  it('close stops the source, the timer and every later read', async () => {
    const loader = new FakeLoader<Cfg>();
    const source = createManualInvalidationSource();
    const cache = make(loader, { invalidation: source });
    await cache.start();
    expect(source.running).toBe(true);
    await cache.close();
    expect(source.running).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000_000);
    expect(loader.loadAllCalls).toBe(0);
    await expect(cache.get('a')).rejects.toBeInstanceOf(ConfigCacheClosedError);
    await expect(cache.refreshAll()).rejects.toMatchObject({ code: 'closed' });
    expect(cache.peek('a')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close aborts in-flight loads', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.gates.push(deferred<void>());
    const cache = make(loader);
    void cache.get('a').catch(() => {});
    await flush();
    await cache.close();
    expect(loader.signals[0]?.aborted).toBe(true);
  });

  it('close rejects pending reads at once even when the loader ignores its abort signal', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.gates.push(deferred<void>()); // never released, signal ignored
    const cache = make(loader, { loadTimeoutMs: 60_000 });
    loader.allGates.push(deferred<void>()); // never released either
    const pending = cache.get('a');
    const refresh = cache.refreshAll();
    await flush();
    await cache.close();
    await expect(pending).rejects.toBeInstanceOf(ConfigCacheClosedError);
    await expect(refresh).rejects.toBeInstanceOf(ConfigCacheClosedError);
    expect(cache.metrics().loadsFailed).toBe(0);
  });
});

describe('metrics', () => {
  it('is a plain JSON-serialisable object with a cumulative load-time histogram', async () => {
    const loader = new FakeLoader<Cfg>();
    loader.data.set('a', { v: 1 });
    const gate = deferred<void>();
    loader.gates.push(gate);
    const cache = make(loader);
    const read = cache.get('a');
    await vi.advanceTimersByTimeAsync(30);
    gate.resolve();
    await read;
    const m = cache.metrics();
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    expect(m.loadTimeMs.count).toBe(1);
    expect(m.loadTimeMs.sumMs).toBe(30);
    expect(m.loadTimeMs.buckets.find((b) => b.leMs === 25)?.count).toBe(0);
    expect(m.loadTimeMs.buckets.find((b) => b.leMs === 50)?.count).toBe(1);
    expect(m.loadTimeMs.buckets.at(-1)).toEqual({ leMs: null, count: 1 });
    expect(m.listenerConnected).toBeNull();
    expect(m.name).toBe('config-cache');
  });
});

describe('frozen values', () => {
  type Nested = { retailcrm: { enabled: boolean; users: Array<{ ext: string }> }; when: Date; tags: Set<string> };
  const sample = (): Nested => ({
    retailcrm: { enabled: true, users: [{ ext: '151' }] },
    when: new Date(0),
    tags: new Set(['a']),
  });

  it('deep-freezes plain objects and arrays on commit (single-key load and full refresh) by default', async () => {
    const loader = new FakeLoader<Nested>();
    loader.data.set('a', sample());
    loader.data.set('b', { ...sample(), bytes: new Uint8Array([1]) } as Nested);
    const cache = createConfigCache<Nested>({ loader, random: () => 0 });
    const value = (await cache.get('a')) as Nested;
    expect(() => {
      value.retailcrm.enabled = false;
    }).toThrow(TypeError);
    expect(() => value.retailcrm.users.push({ ext: '152' })).toThrow(TypeError);
    expect(() => {
      (value.retailcrm.users[0] as { ext: string }).ext = '999';
    }).toThrow(TypeError);
    expect(cache.peek('a')?.retailcrm).toEqual({ enabled: true, users: [{ ext: '151' }] });
    // Non-plain objects are left alone (freezing would not stop their methods; typed arrays cannot be frozen).
    expect(Object.isFrozen(value.when)).toBe(false);
    value.tags.add('b');
    await cache.refreshAll();
    const refreshed = cache.peek('b') as Nested;
    expect(Object.isFrozen(refreshed.retailcrm.users)).toBe(true);
    await cache.close();
  });

  it('freezeValues: false leaves values as the loader returned them; cycles are fine', async () => {
    const loader = new FakeLoader<Nested>();
    loader.data.set('a', sample());
    const cache = createConfigCache<Nested>({ loader, random: () => 0, freezeValues: false });
    const value = (await cache.get('a')) as Nested;
    value.retailcrm.enabled = false;
    expect(cache.peek('a')?.retailcrm.enabled).toBe(false);
    await cache.close();

    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    const cyclicLoader = new FakeLoader<Record<string, unknown>>();
    cyclicLoader.data.set('c', cyclic);
    const frozen = createConfigCache<Record<string, unknown>>({ loader: cyclicLoader, random: () => 0 });
    expect(Object.isFrozen(await frozen.get('c'))).toBe(true);
    await frozen.close();
  });
});
