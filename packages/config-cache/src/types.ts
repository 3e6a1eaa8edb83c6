/** Where the cache reads values from (the reference server: `enterprises.integrations_config`). */
export interface ConfigCacheLoader<V> {
  /** Loads one key; `undefined` means the key is unknown (negatively cached). Honour `signal`: it aborts on timeout and close. */
  load(key: string, signal: AbortSignal): Promise<V | undefined>;
  /** Loads every key; the result replaces the whole snapshot. Honour `signal` like {@link ConfigCacheLoader.load}. */
  loadAll(signal: AbortSignal): Promise<Iterable<readonly [string, V]>>;
}

/** One change notification; `key` undefined means "invalidate everything". */
export interface InvalidationEvent {
  /** The changed key, or `undefined` when the payload names none (everything is invalidated). */
  key?: string;
  /** The raw notification payload (e.g. the NOTIFY payload), for logs and custom key extraction. */
  payload: string;
}

/** What an {@link InvalidationSource} reports to (the cache passes its own listener to `start`). */
export interface InvalidationListener {
  /** A key (or, with `key` undefined, everything) changed at the source: drop what is cached for it. */
  onInvalidate(event: InvalidationEvent): void;
  /** Notifications may have been missed (the listener reconnected): resync everything. */
  onResync(): void;
  /** The source's connection went up (`true`) or down (`false`); shown as `listenerConnected` in the metrics. */
  onConnectionChange?(connected: boolean): void;
  /** The cache's logger: a source without a logger of its own reports its retries here. */
  logger?: ConfigCacheLogger;
}

/**
 * A push channel of invalidations (PostgreSQL LISTEN, PGlite listen, or a manual one in tests). Conformance suite:
 * `registerConfigSourceSuite` on `@callbridge/config-cache/testing`.
 */
export interface InvalidationSource {
  /**
   * Starts delivering to `listener`; resolves after the first connection attempt (connected: `onConnectionChange(true)`
   * has been called). Calling it again while started adds no second subscription.
   */
  start(listener: InvalidationListener): Promise<void>;
  /** Stops delivering (nothing reaches the listener afterwards) and releases the connection; idempotent. `start` may follow. */
  stop(): Promise<void>;
}

/**
 * Logger port with pino's argument order (fields first, message second): a pino logger is passed as is. The cache
 * never passes cached values (which may hold secrets) or connection strings to it. Without pino, adapt `console`
 * once: `{ warn: (obj, msg) => console.warn(msg ?? '', obj), info: (obj, msg) => console.info(msg ?? '', obj) }`.
 */
export interface ConfigCacheLogger {
  /** Failed background reloads and full refreshes, lost or failed LISTEN connections. */
  warn(obj: object, msg?: string): void;
  /** Resyncs after a reconnect. */
  info?(obj: object, msg?: string): void;
}

/** Load durations of single-key loads. */
export interface LoadTimeHistogram {
  /** Loads observed. */
  count: number;
  /** Sum of their durations. */
  sumMs: number;
  /** The slowest one. */
  maxMs: number;
  /** Cumulative buckets: `count` loads took at most `leMs`; the last bucket is `Infinity` encoded as `null`. */
  buckets: Array<{
    /** Upper bound of the bucket in milliseconds, inclusive; `null` for the last (`+Inf`) bucket. */
    leMs: number | null;
    /** Loads that took at most `leMs` (cumulative: includes every smaller bucket). */
    count: number;
  }>;
}

/** Plain JSON-serialisable counters and gauges. */
export interface ConfigCacheMetrics {
  /** The cache's `name` option. */
  name: string;
  /** Entries that can be served (fresh or stale inside the grace window): always `keys().length`. */
  size: number;
  /** Expired entries still held in memory until their next read or the next full refresh replaces them. */
  expiredSize: number;
  /** Unknown keys currently remembered (negative cache). */
  negativeSize: number;
  /** Reads answered by a fresh entry. */
  hits: number;
  /** Reads that found nothing servable and had to load. */
  misses: number;
  /** Reads answered by a stale entry inside the grace window (each schedules one background reload). */
  staleHits: number;
  /** Reads answered "unknown" by the negative cache. */
  negativeHits: number;
  /** Single-key loads that succeeded. */
  loadsOk: number;
  /** Single-key loads that failed (timeouts included). */
  loadsFailed: number;
  /** Single-key loads aborted by `loadTimeoutMs`. */
  loadTimeouts: number;
  /** Loads whose result was dropped because an invalidation raced them. */
  staleLoadsDiscarded: number;
  /** Durations of single-key loads. */
  loadTimeMs: LoadTimeHistogram;
  /** Single-key invalidations (by hand or from the source). */
  invalidations: number;
  /** Invalidate-everything events (by hand, from the source, or by a resync). */
  invalidationsAll: number;
  /** Resyncs reported by the source after a reconnect. */
  resyncs: number;
  /** `null` when no invalidation source is configured. */
  listenerConnected: boolean | null;
  /** Successful full refreshes. */
  fullRefreshes: number;
  /** Failed full refreshes. */
  fullRefreshFailures: number;
  /** Epoch milliseconds of the last successful full refresh, or `null`. */
  lastFullRefreshAt: number | null;
  /** Message of the last failed full refresh, cleared by the next success. */
  lastFullRefreshError: string | null;
}

/** A per-tenant cache of configuration values; create one with `createConfigCache`. */
export interface ConfigCache<V> {
  /** Returns a fresh or stale-but-graceful value without waiting; otherwise waits for one single-flight load. */
  get(key: string): Promise<V | undefined>;
  /** Synchronous read of the current snapshot; never loads (a stale value schedules a background refresh). */
  peek(key: string): V | undefined;
  /** Drops `key` (and its negative entry); a load already running for it cannot commit its older answer. */
  invalidate(key: string): void;
  /** Drops everything; loads already running cannot commit their older answers. */
  invalidateAll(): void;
  /** Reloads everything through `loader.loadAll` and swaps the snapshot; joins a refresh already running. */
  refreshAll(): Promise<void>;
  /** Keys with a servable entry (fresh, or stale inside the grace window). */
  keys(): string[];
  /** A snapshot of the counters and gauges. */
  metrics(): ConfigCacheMetrics;
  /** Starts the background full refresh and the invalidation source. */
  start(): Promise<void>;
  /** Stops timers and the source and aborts running loads; pending and later reads reject with code `closed`. */
  close(): Promise<void>;
}
