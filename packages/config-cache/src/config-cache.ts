import { type BackoffOptions, backoffDelay } from './backoff.js';
import { between, type Clock, type RandomSource, systemClock, type TimerHandle } from './clock.js';
import { CoarseClock } from './coarse-clock.js';
import { deepFreeze } from './deep-freeze.js';
import { ConfigCacheClosedError, ConfigCacheError, ConfigCacheLoadTimeoutError } from './errors.js';
import { Histogram } from './histogram.js';
import { NegativeCache } from './negative-cache.js';
import { Semaphore } from './semaphore.js';
import { withTimeout } from './timeout.js';
import type {
  ConfigCache,
  ConfigCacheLoader,
  ConfigCacheLogger,
  ConfigCacheMetrics,
  InvalidationListener,
  InvalidationSource,
} from './types.js';

/** Options of {@link createConfigCache}. */
export interface ConfigCacheOptions<V> {
  /** Shows up in metrics and log lines (default `config-cache`). */
  name?: string;
  /** Where values come from. */
  loader: ConfigCacheLoader<V>;
  /** Push invalidations (`./pg`, `./pglite`, or a manual source); without one, only TTLs and full refreshes apply. */
  invalidation?: InvalidationSource;
  /** Refresh-after window: each entry gets a uniformly jittered TTL in [min, max] (default 60–120 s). */
  refreshAfterMinMs?: number;
  /** Upper end of the refresh-after window (default 120 s; raised to `refreshAfterMinMs` if lower). */
  refreshAfterMaxMs?: number;
  /**
   * Expire-after = refresh-after + grace (default 60 s). Between the two a read returns the stale
   * value and triggers one background reload; after it a read waits for the load. 0 disables
   * stale-while-revalidate.
   */
  graceMs?: number;
  /** After a failed background reload, the stale entry is retried no sooner than this (default 5 s). */
  refreshRetryMs?: number;
  /** Background full refresh period (default 240 s); 0 disables it. */
  fullRefreshIntervalMs?: number;
  /** ± fraction applied to every period (default 0.2: 192–288 s with the default period). */
  fullRefreshJitter?: number;
  /** Backoff between failed full refreshes (capped at the period; defaults 1 s → period). */
  fullRefreshBackoff?: BackoffOptions;
  /** A single-key load that has not settled by then is aborted and rejected (default 10 s). */
  loadTimeoutMs?: number;
  /** Same for `loadAll` (default 60 s). */
  fullRefreshTimeoutMs?: number;
  /** Max loader calls running at once across all keys (default 16). */
  maxConcurrentLoads?: number;
  /** How long an unknown key is remembered (default 30 s); 0 disables negative caching. */
  negativeTtlMs?: number;
  /** Max unknown keys remembered; the oldest is evicted first (default 10 000). */
  negativeMaxSize?: number;
  /**
   * Deep-freeze every value when it is committed (default true): plain objects and arrays, in place, so a caller
   * cannot change what every other reader of the key gets. Set false for values that must stay mutable.
   */
  freezeValues?: boolean;
  /**
   * Hits compare against a clock sample taken at most this often (default 1 ms; 0 reads the clock on every
   * hit). Only the fresh case uses the sample, and only when the entry's refresh point is more than this far
   * ahead of it: an entry near its refresh or expiry point is judged against the exact clock.
   */
  timeResolutionMs?: number;
  /** Time and timers (default {@link systemClock}); tests pass `createManualClock()` from `./testing`. */
  clock?: Clock;
  /** Jitter source (default `Math.random`). */
  random?: RandomSource;
  /** Where failures and resyncs are reported (pino as is); handed to the source unless it has its own. Default: silent. */
  logger?: ConfigCacheLogger;
}

interface Entry<V> {
  readonly value: V;
  /** Pre-resolved promise: a hit returns it instead of allocating a new one. */
  readonly resolved: Promise<V>;
  readonly refreshAt: number;
  /** `refreshAt` minus the coarse clock's resolution: before it, a coarse sample proves the entry fresh. */
  readonly freshUntil: number;
  readonly expireAt: number;
  /** Sequence number at which the load that produced it started. */
  readonly seq: number;
}

interface Inflight<V> {
  readonly promise: Promise<V | undefined>;
  readonly seq: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class ConfigCacheImpl<V> implements ConfigCache<V> {
  private readonly name: string;
  private readonly loader: ConfigCacheLoader<V>;
  private readonly source: InvalidationSource | undefined;
  private readonly clock: Clock;
  private readonly coarse: CoarseClock;
  private readonly random: RandomSource;
  private readonly logger: ConfigCacheLogger | undefined;
  private readonly refreshAfterMinMs: number;
  private readonly refreshAfterMaxMs: number;
  private readonly graceMs: number;
  private readonly refreshRetryMs: number;
  private readonly fullRefreshIntervalMs: number;
  private readonly fullRefreshJitter: number;
  private readonly fullRefreshBackoff: BackoffOptions;
  private readonly loadTimeoutMs: number;
  private readonly fullRefreshTimeoutMs: number;
  private readonly semaphore: Semaphore;
  private readonly negative: NegativeCache;
  private readonly histogram = new Histogram();
  private readonly freezeValues: boolean;

  /** The current snapshot; a full refresh replaces the reference in one assignment. */
  private snapshot = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Inflight<V>>();
  private readonly controllers = new Set<AbortController>();
  private refreshing: Promise<void> | undefined;

  // Generations: every load start and every invalidation takes the next `seq`. A load may commit
  // only if no invalidation of its key (or of everything) happened after it started.
  private seq = 0;
  private allInvalidatedSeq = 0;
  private readonly keyInvalidatedSeq = new Map<string, number>();
  private activeOps = 0;

  private started = false;
  private closed = false;
  private timer: TimerHandle | undefined;
  private fullRefreshFailuresInARow = 0;

  private readonly counters = {
    hits: 0,
    misses: 0,
    staleHits: 0,
    negativeHits: 0,
    loadsOk: 0,
    loadsFailed: 0,
    loadTimeouts: 0,
    staleLoadsDiscarded: 0,
    invalidations: 0,
    invalidationsAll: 0,
    resyncs: 0,
    fullRefreshes: 0,
    fullRefreshFailures: 0,
  };
  private listenerConnected: boolean | null;
  private lastFullRefreshAt: number | null = null;
  private lastFullRefreshError: string | null = null;

  constructor(options: ConfigCacheOptions<V>) {
    this.name = options.name ?? 'config-cache';
    this.loader = options.loader;
    this.source = options.invalidation;
    this.clock = options.clock ?? systemClock;
    this.coarse = new CoarseClock(this.clock, Math.max(0, options.timeResolutionMs ?? 1));
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.refreshAfterMinMs = options.refreshAfterMinMs ?? 60_000;
    this.refreshAfterMaxMs = Math.max(this.refreshAfterMinMs, options.refreshAfterMaxMs ?? 120_000);
    this.graceMs = Math.max(0, options.graceMs ?? 60_000);
    this.refreshRetryMs = options.refreshRetryMs ?? 5_000;
    this.fullRefreshIntervalMs = options.fullRefreshIntervalMs ?? 240_000;
    this.fullRefreshJitter = Math.min(1, Math.max(0, options.fullRefreshJitter ?? 0.2));
    this.fullRefreshBackoff = {
      minMs: options.fullRefreshBackoff?.minMs ?? 1_000,
      maxMs: options.fullRefreshBackoff?.maxMs ?? (this.fullRefreshIntervalMs || 60_000),
    };
    this.loadTimeoutMs = options.loadTimeoutMs ?? 10_000;
    this.fullRefreshTimeoutMs = options.fullRefreshTimeoutMs ?? 60_000;
    this.semaphore = new Semaphore(Math.max(1, options.maxConcurrentLoads ?? 16));
    this.negative = new NegativeCache(options.negativeMaxSize ?? 10_000, options.negativeTtlMs ?? 30_000);
    this.listenerConnected = this.source ? false : null;
    this.freezeValues = options.freezeValues ?? true;
  }

  // ---- reads -------------------------------------------------------------------------------

  get(key: string): Promise<V | undefined> {
    if (this.closed) return Promise.reject(new ConfigCacheClosedError(this.name));
    const hit = this.snapshot.get(key);
    if (hit !== undefined && this.coarse.now() < hit.freshUntil) {
      this.counters.hits++;
      return hit.resolved;
    }
    const now = this.clock.now();
    const entry = this.lookup(key, now);
    if (entry !== undefined) return entry.resolved;
    if (this.negative.has(key, now)) {
      this.counters.negativeHits++;
      return Promise.resolve(undefined);
    }
    this.counters.misses++;
    return this.load(key);
  }

  peek(key: string): V | undefined {
    if (this.closed) return undefined;
    // Fast path: a clearly fresh entry, judged by the coarse clock (no clock call on most hits).
    const hit = this.snapshot.get(key);
    if (hit !== undefined && this.coarse.now() < hit.freshUntil) {
      this.counters.hits++;
      return hit.value;
    }
    const now = this.clock.now();
    const entry = this.lookup(key, now);
    if (entry !== undefined) return entry.value;
    if (this.negative.has(key, now)) this.counters.negativeHits++;
    else this.counters.misses++;
    return undefined;
  }

  /** The servable entry (fresh, or stale inside the grace window) with its hit counted; a stale hit schedules one reload. */
  private lookup(key: string, now: number): Entry<V> | undefined {
    const entry = this.snapshot.get(key);
    if (entry === undefined) return undefined;
    if (now < entry.refreshAt) {
      this.counters.hits++;
      return entry;
    }
    if (now < entry.expireAt) {
      this.counters.staleHits++;
      this.refreshInBackground(key, entry);
      return entry;
    }
    return undefined;
  }

  keys(): string[] {
    const now = this.clock.now();
    const result: string[] = [];
    for (const [key, entry] of this.snapshot) if (now < entry.expireAt) result.push(key);
    return result;
  }

  // ---- invalidation ------------------------------------------------------------------------

  invalidate(key: string): void {
    this.counters.invalidations++;
    this.seq++;
    // Only in-flight loads can be affected; with none running nothing needs remembering.
    if (this.activeOps > 0) this.keyInvalidatedSeq.set(key, this.seq);
    this.snapshot.delete(key);
    this.negative.delete(key);
  }

  invalidateAll(): void {
    this.counters.invalidationsAll++;
    this.seq++;
    this.allInvalidatedSeq = this.seq;
    this.keyInvalidatedSeq.clear();
    this.snapshot = new Map();
    this.negative.clear();
  }

  private isStale(key: string, startSeq: number): boolean {
    return this.allInvalidatedSeq > startSeq || (this.keyInvalidatedSeq.get(key) ?? 0) > startSeq;
  }

  // ---- single-key loads --------------------------------------------------------------------

  private load(key: string): Promise<V | undefined> {
    const current = this.inflight.get(key);
    // Join a running load unless an invalidation arrived after it started: its answer may be old.
    if (current !== undefined && !this.isStale(key, current.seq)) return current.promise;

    const seq = ++this.seq;
    this.activeOps++;
    const controller = new AbortController();
    this.controllers.add(controller);
    const promise = this.semaphore
      .run(() => {
        if (this.closed) throw new ConfigCacheClosedError(this.name);
        const startedAt = this.clock.now();
        return withTimeout(
          (signal) => this.loader.load(key, signal),
          this.loadTimeoutMs,
          this.clock,
          controller,
          () => new ConfigCacheLoadTimeoutError(key, this.loadTimeoutMs),
        ).then((value) => {
          this.histogram.observe(this.clock.now() - startedAt);
          return value;
        });
      })
      .then(
        (value) => {
          this.counters.loadsOk++;
          this.commit(key, value, seq);
          return value;
        },
        (error: unknown) => {
          if (error instanceof ConfigCacheClosedError) throw error;
          this.counters.loadsFailed++;
          if (error instanceof ConfigCacheLoadTimeoutError) this.counters.loadTimeouts++;
          throw error;
        },
      )
      .finally(() => {
        this.controllers.delete(controller);
        if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
        this.opDone();
      });
    this.inflight.set(key, { promise, seq });
    return promise;
  }

  private commit(key: string, value: V | undefined, seq: number): void {
    if (this.closed) return;
    if (this.isStale(key, seq)) {
      this.counters.staleLoadsDiscarded++;
      return;
    }
    const existing = this.snapshot.get(key);
    // A newer load (e.g. a full refresh that started later) already committed: keep it.
    if (existing !== undefined && existing.seq > seq) return;
    if (value === undefined) {
      this.snapshot.delete(key);
      this.negative.add(key, this.clock.now());
      return;
    }
    this.negative.delete(key);
    this.snapshot.set(key, this.makeEntry(value, seq, this.clock.now()));
  }

  private makeEntry(value: V, seq: number, now: number): Entry<V> {
    const refreshAt = now + between(this.random, this.refreshAfterMinMs, this.refreshAfterMaxMs);
    if (this.freezeValues) deepFreeze(value);
    return Object.freeze({
      value,
      resolved: Promise.resolve(value),
      refreshAt,
      freshUntil: refreshAt - this.coarse.resolutionMs,
      expireAt: refreshAt + this.graceMs,
      seq,
    });
  }

  private refreshInBackground(key: string, entry: Entry<V>): void {
    const current = this.inflight.get(key);
    if (current !== undefined && !this.isStale(key, current.seq)) return;
    this.load(key).catch((error: unknown) => {
      if (error instanceof ConfigCacheClosedError) return;
      this.logger?.warn(
        { cache: this.name, key, err: describe(error) },
        'config-cache: background reload failed; serving the stale value',
      );
      // Back off: without this every stale read would fire another doomed load.
      if (this.snapshot.get(key) === entry) {
        const refreshAt = Math.min(entry.expireAt, this.clock.now() + this.refreshRetryMs);
        this.snapshot.set(key, Object.freeze({ ...entry, refreshAt }));
      }
    });
  }

  private opDone(): void {
    this.activeOps--;
    if (this.activeOps === 0) this.keyInvalidatedSeq.clear();
  }

  // ---- full refresh ------------------------------------------------------------------------

  refreshAll(): Promise<void> {
    if (this.closed) return Promise.reject(new ConfigCacheClosedError(this.name));
    if (this.refreshing === undefined) {
      this.refreshing = this.runFullRefresh().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async runFullRefresh(): Promise<void> {
    this.activeOps++;
    try {
      // An invalidateAll (e.g. a resync) during loadAll makes its result suspect: load again.
      for (let attempt = 0; ; attempt++) {
        const seq = ++this.seq;
        const controller = new AbortController();
        this.controllers.add(controller);
        let loaded: Iterable<readonly [string, V]>;
        try {
          loaded = await withTimeout(
            (signal) => this.loader.loadAll(signal),
            this.fullRefreshTimeoutMs,
            this.clock,
            controller,
            () => new ConfigCacheLoadTimeoutError(undefined, this.fullRefreshTimeoutMs),
          );
        } finally {
          this.controllers.delete(controller);
        }
        if (this.closed) return;
        if (this.allInvalidatedSeq > seq) {
          this.counters.staleLoadsDiscarded++;
          if (attempt < 2) continue;
          throw new ConfigCacheError('refresh_raced', 'Full refresh kept racing invalidations', {
            isRetryable: true,
          });
        }
        this.swap(loaded, seq);
        return;
      }
    } catch (error) {
      if (this.closed) throw error;
      this.counters.fullRefreshFailures++;
      this.lastFullRefreshError = describe(error);
      this.logger?.warn(
        { cache: this.name, err: describe(error) },
        'config-cache: full refresh failed; keeping the previous snapshot',
      );
      throw error;
    } finally {
      this.opDone();
    }
  }

  private swap(loaded: Iterable<readonly [string, V]>, seq: number): void {
    const now = this.clock.now();
    const next = new Map<string, Entry<V>>();
    for (const [key, value] of loaded) {
      // Invalidated while loadAll ran: the row may have changed after it was read. Leave it out;
      // the next read loads it fresh.
      if ((this.keyInvalidatedSeq.get(key) ?? 0) > seq) {
        this.counters.staleLoadsDiscarded++;
        continue;
      }
      next.set(key, this.makeEntry(value, seq, now));
      this.negative.delete(key);
    }
    // Single-key loads that started after this refresh are at least as new: keep them.
    for (const [key, entry] of this.snapshot) if (entry.seq > seq) next.set(key, entry);
    this.snapshot = next;
    this.counters.fullRefreshes++;
    this.lastFullRefreshAt = now;
    this.lastFullRefreshError = null;
  }

  private scheduleFullRefresh(delay: number): void {
    if (this.closed || this.fullRefreshIntervalMs <= 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.refreshAll().then(
        () => {
          this.fullRefreshFailuresInARow = 0;
          this.scheduleFullRefresh(this.nextPeriod());
        },
        () => {
          const delay = Math.min(
            this.nextPeriod(),
            backoffDelay(this.fullRefreshFailuresInARow++, this.fullRefreshBackoff, this.random),
          );
          this.scheduleFullRefresh(delay);
        },
      );
    }, delay);
  }

  private nextPeriod(): number {
    const spread = this.fullRefreshIntervalMs * this.fullRefreshJitter;
    return between(this.random, this.fullRefreshIntervalMs - spread, this.fullRefreshIntervalMs + spread);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.closed) throw new ConfigCacheClosedError(this.name);
    if (this.started) return;
    this.started = true;
    this.scheduleFullRefresh(this.nextPeriod());
    // The cache's logger goes to the source, so its connection retries are never silent.
    if (this.source !== undefined) await this.source.start({ ...this.listener, logger: this.logger });
  }

  private readonly listener: InvalidationListener = {
    onInvalidate: (event) => {
      if (this.closed) return;
      if (event.key === undefined) this.invalidateAll();
      else this.invalidate(event.key);
    },
    onResync: () => {
      if (this.closed) return;
      this.counters.resyncs++;
      this.logger?.info?.({ cache: this.name }, 'config-cache: invalidation listener resynced; reloading everything');
      // Notifications were missed: nothing cached can be trusted any more.
      this.invalidateAll();
      this.refreshAll().catch(() => {
        // Already counted and logged; reads load on demand meanwhile.
      });
    },
    onConnectionChange: (connected) => {
      this.listenerConnected = connected;
    },
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.coarse.stop();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const controller of this.controllers) controller.abort(new ConfigCacheClosedError(this.name));
    this.controllers.clear();
    if (this.started && this.source !== undefined) await this.source.stop();
    this.snapshot = new Map();
    this.negative.clear();
  }

  // ---- metrics -----------------------------------------------------------------------------

  metrics(): ConfigCacheMetrics {
    // Same rule as keys(): an expired entry is not servable, so it is not counted in `size`.
    const now = this.clock.now();
    let size = 0;
    for (const entry of this.snapshot.values()) if (now < entry.expireAt) size++;
    return {
      name: this.name,
      size,
      expiredSize: this.snapshot.size - size,
      negativeSize: this.negative.size,
      ...this.counters,
      loadTimeMs: this.histogram.snapshot(),
      listenerConnected: this.listenerConnected,
      lastFullRefreshAt: this.lastFullRefreshAt,
      lastFullRefreshError: this.lastFullRefreshError,
    };
  }
}

/** Creates a cache; call `start()` to begin the background refresh and listen for invalidations. */
export function createConfigCache<V>(options: ConfigCacheOptions<V>): ConfigCache<V> {
  return new ConfigCacheImpl(options);
}
