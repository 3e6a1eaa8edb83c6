import { createConfigCache } from '../config-cache.js';
import type { ConfigCacheLoader, InvalidationEvent, InvalidationListener, InvalidationSource } from '../types.js';
import { eventually as poll } from './eventually.js';

/** The parts of vitest (or jest) the suite uses; passed in so this module does not depend on a test runner. */
export interface ConfigSourceSuiteApi {
  /** Groups the suite's tests. */
  describe(name: string, fn: () => void): void;
  /** Declares one test. */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The runner's `expect`. */
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic.
  expect: (value: unknown) => any;
  /** Runs after each test (the suite stops its sources and disposes the harness there). */
  afterEach(fn: () => Promise<void>): void;
}

/**
 * One config store with its change notifications, as an application wires it: a loader reading the stored values, a
 * not yet started invalidation source, and a way to change a stored value the way the application does (e.g. a row
 * update whose trigger sends NOTIFY).
 */
export interface ConfigSourceHarness<V> {
  /** A fresh source, not started. */
  source: InvalidationSource;
  /** Reads what {@link ConfigSourceHarness.write} stored. */
  loader: ConfigCacheLoader<V>;
  /**
   * Stores a value carrying `version` under `key` (`undefined` deletes it) and notifies the way the application does;
   * resolves once the change is committed (the notification may arrive later).
   */
  write(key: string, version: number | undefined): Promise<void>;
  /** The version a loaded value carries (what `write` put into it). */
  version(value: V): number;
  /** Releases what the factory opened (connections, databases); called after each test. */
  dispose?(): Promise<void>;
}

/** Makes a fresh harness for one test. */
export type ConfigSourceFactory<V> = () => ConfigSourceHarness<V> | Promise<ConfigSourceHarness<V>>;

/** Options of {@link registerConfigSourceSuite}. */
export interface ConfigSourceSuiteOptions {
  /** How long a notification may take to arrive (default 5 000 ms; real time). */
  deliveryTimeoutMs?: number;
}

interface RecordingListener extends InvalidationListener {
  readonly events: InvalidationEvent[];
  readonly connected: boolean[];
  keys(): Array<string | undefined>;
}

function recordingListener(): RecordingListener {
  const events: InvalidationEvent[] = [];
  const connected: boolean[] = [];
  return {
    events,
    connected,
    keys: () => events.map((event) => event.key),
    onInvalidate: (event) => void events.push(event),
    onResync: () => undefined,
    onConnectionChange: (value) => void connected.push(value),
  };
}

let keySeq = 0;
/** Keys unique to one test, so harnesses that share one database never see each other's changes. */
const uniqueKey = (label: string) =>
  `${label}-${Date.now().toString(36)}-${(keySeq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/**
 * The `InvalidationSource` conformance suite, run through a loader and a writer as an application wires them: loads
 * see what was written; `start` reports connected; a change reaches the listener with its key (once, even if `start`
 * is called twice); a cache on the source sees changes and deletes without waiting for a TTL; after `stop` nothing
 * is delivered, `stop` is idempotent and the source can be started again. Run it against every source:
 * `registerConfigSourceSuite({describe, it, expect, afterEach}, 'mine', () => myHarness())`.
 */
export function registerConfigSourceSuite<V>(
  t: ConfigSourceSuiteApi,
  name: string,
  factory: ConfigSourceFactory<V>,
  options: ConfigSourceSuiteOptions = {},
): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 5_000;
  const testTimeoutMs = deliveryTimeoutMs * 4 + 10_000;
  const { describe, it, expect, afterEach } = t;

  const eventually = (check: () => void | Promise<void>) => poll(check, deliveryTimeoutMs);

  describe(`InvalidationSource contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const open = async (): Promise<ConfigSourceHarness<V>> => {
      const harness = await factory();
      cleanups.push(async () => {
        await harness.source.stop();
        await harness.dispose?.();
      });
      return harness;
    };
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it(
      'the loader reads what was written; an unknown key loads as undefined; loadAll lists written keys',
      async () => {
        const h = await open();
        const [a, b, unknown] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('unknown')];
        await h.write(a, 1);
        await h.write(b, 2);
        const signal = new AbortController().signal;
        const loaded = await h.loader.load(a, signal);
        expect(loaded === undefined ? undefined : h.version(loaded)).toBe(1);
        expect(await h.loader.load(unknown, signal)).toBeUndefined();
        const all = new Map([...(await h.loader.loadAll(signal))].map(([key, value]) => [key, h.version(value)]));
        expect(all.get(a)).toBe(1);
        expect(all.get(b)).toBe(2);
        expect(all.has(unknown)).toBe(false);
      },
      testTimeoutMs,
    );

    it(
      'start reports connected; a change reaches the listener with its key, once, even after a second start',
      async () => {
        const h = await open();
        const [changed, untouched, marker] = [uniqueKey('changed'), uniqueKey('untouched'), uniqueKey('marker')];
        await h.write(untouched, 1);
        const listener = recordingListener();
        await h.source.start(listener);
        expect(listener.connected.at(-1)).toBe(true);
        await h.source.start(listener);
        await h.write(changed, 1);
        await h.write(marker, 1);
        // Notifications keep their order: once the marker is in, a duplicate of the first change would be too.
        await eventually(() => expect(listener.keys()).toContain(marker));
        expect(listener.keys().filter((key) => key === changed)).toHaveLength(1);
        expect(listener.keys()).not.toContain(untouched);
        for (const event of listener.events) expect(typeof event.payload).toBe('string');
      },
      testTimeoutMs,
    );

    it(
      'a cache on the source sees a change and a delete without waiting for a TTL',
      async () => {
        const h = await open();
        const key = uniqueKey('cached');
        await h.write(key, 1);
        const cache = createConfigCache<V>({
          name: `contract-${name}`,
          loader: h.loader,
          invalidation: h.source,
          // Only the source can make a change visible within the test.
          refreshAfterMinMs: 600_000,
          refreshAfterMaxMs: 600_000,
          fullRefreshIntervalMs: 0,
        });
        cleanups.push(() => cache.close());
        await cache.start();
        expect(cache.metrics().listenerConnected).toBe(true);
        const versionOf = async () => {
          const value = await cache.get(key);
          return value === undefined ? undefined : h.version(value);
        };
        expect(await versionOf()).toBe(1);

        await h.write(key, 2);
        await eventually(async () => expect(await versionOf()).toBe(2));

        await h.write(key, undefined);
        await eventually(async () => expect(await versionOf()).toBeUndefined());

        // The unknown key was remembered as unknown: a new value must clear that too.
        await h.write(key, 3);
        await eventually(async () => expect(await versionOf()).toBe(3));
      },
      testTimeoutMs,
    );

    it(
      'after stop nothing reaches the listener; a second stop is harmless; the source starts again',
      async () => {
        const h = await open();
        const [whileStopped, afterRestart] = [uniqueKey('stopped'), uniqueKey('restarted')];
        const first = recordingListener();
        await h.source.start(first);
        await h.source.stop();
        expect(first.connected.at(-1)).toBe(false);
        await h.source.stop();

        await h.write(whileStopped, 1);
        const second = recordingListener();
        await h.source.start(second);
        expect(second.connected.at(-1)).toBe(true);
        await h.write(afterRestart, 1);
        // A change made after the restart arrived: one made while stopped would have arrived before it.
        await eventually(() => expect(second.keys()).toContain(afterRestart));
        expect(second.keys()).not.toContain(whileStopped);
        expect(first.events).toEqual([]);
      },
      testTimeoutMs,
    );
  });
}
