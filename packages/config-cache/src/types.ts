/** Where the cache reads values from (the reference server: `enterprises.integrations_config`). */
export interface ConfigCacheLoader<V> {
  /** Loads one key; `undefined` means the key is unknown (negatively cached). */
  load(key: string, signal: AbortSignal): Promise<V | undefined>;
  /** Loads every key; the result replaces the whole snapshot. */
  loadAll(signal: AbortSignal): Promise<Iterable<readonly [string, V]>>;
}

/** One change notification; `key` undefined means "invalidate everything". */
export interface InvalidationEvent {
  key?: string;
  payload: string;
}

export interface InvalidationListener {
  onInvalidate(event: InvalidationEvent): void;
  /** Notifications may have been missed (the listener reconnected): resync everything. */
  onResync(): void;
  onConnectionChange?(connected: boolean): void;
  /** The cache's logger: a source without a logger of its own reports its retries here. */
  logger?: ConfigCacheLogger;
}

/** A push channel of invalidations (PostgreSQL LISTEN, PGlite listen, or a manual one in tests). */
export interface InvalidationSource {
  start(listener: InvalidationListener): Promise<void>;
  stop(): Promise<void>;
}

/** Minimal logger port; the cache never passes values (which may hold secrets) to it. */
export interface ConfigCacheLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
}

export interface LoadTimeHistogram {
  count: number;
  sumMs: number;
  maxMs: number;
  /** Cumulative buckets: `count` loads took at most `leMs`; the last bucket is `Infinity` encoded as `null`. */
  buckets: Array<{ leMs: number | null; count: number }>;
}

/** Plain JSON-serialisable counters and gauges. */
export interface ConfigCacheMetrics {
  name: string;
  /** Entries that can be served (fresh or stale inside the grace window): always `keys().length`. */
  size: number;
  /** Expired entries still held in memory until their next read or the next full refresh replaces them. */
  expiredSize: number;
  negativeSize: number;
  hits: number;
  misses: number;
  staleHits: number;
  negativeHits: number;
  loadsOk: number;
  loadsFailed: number;
  loadTimeouts: number;
  /** Loads whose result was dropped because an invalidation raced them. */
  staleLoadsDiscarded: number;
  loadTimeMs: LoadTimeHistogram;
  invalidations: number;
  invalidationsAll: number;
  resyncs: number;
  /** `null` when no invalidation source is configured. */
  listenerConnected: boolean | null;
  fullRefreshes: number;
  fullRefreshFailures: number;
  /** Epoch milliseconds of the last successful full refresh, or `null`. */
  lastFullRefreshAt: number | null;
  lastFullRefreshError: string | null;
}

export interface ConfigCache<V> {
  /** Returns a fresh or stale-but-graceful value without waiting; otherwise waits for one single-flight load. */
  get(key: string): Promise<V | undefined>;
  /** Synchronous read of the current snapshot; never loads (a stale value schedules a background refresh). */
  peek(key: string): V | undefined;
  invalidate(key: string): void;
  invalidateAll(): void;
  /** Reloads everything through `loader.loadAll` and swaps the snapshot; joins a refresh already running. */
  refreshAll(): Promise<void>;
  keys(): string[];
  metrics(): ConfigCacheMetrics;
  /** Starts the background full refresh and the invalidation source. */
  start(): Promise<void>;
  close(): Promise<void>;
}
