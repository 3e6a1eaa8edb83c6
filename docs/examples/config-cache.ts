// Examples from docs/guides/config-cache.md. They are only typechecked (`pnpm typecheck`), never run.
// In your code import from '@callbridge/config-cache' (and '@callbridge/config-cache/pglite'); the relative
// paths below point at the same files the package's `@callbridge/source` export condition resolves to.
import {
  type ConfigCache,
  type ConfigCacheLoader,
  type ConfigCacheMetrics,
  createConfigCache,
  createManualInvalidationSource,
  createPgListenInvalidationSource,
  isConfigCacheError,
} from '../../packages/config-cache/src/index.js';
import { createPgliteInvalidationSource, type PGliteLike } from '../../packages/config-cache/src/pglite.js';

// --- 1. The loader: where values come from ---------------------------------------------------------------

/** The part of a database handle the loaders use; a node-postgres `Pool` or a PGlite instance fits. */
export interface Db {
  query(text: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface RetailCrmConfig {
  domain: string;
  api_key: string;
  enabled: boolean;
  user_extensions: Record<string, string | null>;
}

export function retailCrmConfigLoader(db: Db): ConfigCacheLoader<RetailCrmConfig> {
  return {
    // `signal` fires when the load times out (loadTimeoutMs) or the cache closes.
    async load(enterpriseNumber, _signal) {
      const { rows } = await db.query(
        `SELECT integrations_config->'retailcrm' AS cfg FROM enterprises WHERE number = $1`,
        [enterpriseNumber],
      );
      const cfg = rows[0]?.cfg;
      return cfg ? (cfg as RetailCrmConfig) : undefined; // undefined = unknown key, negatively cached
    },
    async loadAll(_signal) {
      const { rows } = await db.query(
        `SELECT number, integrations_config->'retailcrm' AS cfg FROM enterprises WHERE integrations_config ? 'retailcrm'`,
      );
      return rows.map((row) => [String(row.number), row.cfg as RetailCrmConfig] as const);
    },
  };
}

// --- 2. The cache, invalidated by PostgreSQL NOTIFY ---------------------------------------------------------

export async function startRetailCrmConfigCache(db: Db, databaseUrl: string): Promise<ConfigCache<RetailCrmConfig>> {
  const configs = createConfigCache<RetailCrmConfig>({
    name: 'retailcrm-config',
    loader: retailCrmConfigLoader(db),
    invalidation: createPgListenInvalidationSource({
      connectionString: databaseUrl, // a dedicated LISTEN connection; never logged
      channel: 'integrations_config_changed',
      // default keyFromPayload: JSON payload -> its enterprise_number; empty payload -> invalidate everything
    }),
    logger: { warn: (obj, msg) => console.warn(msg ?? '', obj) }, // pino's (obj, msg): a pino logger goes in as is
  });
  await configs.start(); // resolves even if PostgreSQL is down; the listener keeps retrying in the background
  return configs;
}

export async function onCallEvent(configs: ConfigCache<RetailCrmConfig>, enterpriseNumber: string) {
  const cfg = await configs.get(enterpriseNumber); // memory on a hit; one single-flight load on a miss
  if (!cfg?.enabled) return;
  // ... use cfg.domain / cfg.api_key
}

// --- 3. The enablement matrix read on every call event ------------------------------------------------------

export type EnablementMatrix = Record<string, boolean>;

export function createEnablementCache(db: Db, databaseUrl: string): ConfigCache<EnablementMatrix> {
  const toMatrix = (config: unknown): EnablementMatrix => {
    const matrix: EnablementMatrix = {};
    for (const [type, value] of Object.entries((config ?? {}) as Record<string, { enabled?: unknown }>)) {
      matrix[type] = value?.enabled === true;
    }
    return matrix;
  };
  return createConfigCache<EnablementMatrix>({
    name: 'enablement',
    loader: {
      async load(enterpriseNumber) {
        const { rows } = await db.query('SELECT integrations_config FROM enterprises WHERE number = $1', [
          enterpriseNumber,
        ]);
        return rows[0] ? toMatrix(rows[0].integrations_config) : undefined;
      },
      async loadAll() {
        const { rows } = await db.query('SELECT number, integrations_config FROM enterprises');
        return rows.map((row) => [String(row.number), toMatrix(row.integrations_config)] as const);
      },
    },
    invalidation: createPgListenInvalidationSource({
      connectionString: databaseUrl,
      channel: 'integrations_config_changed',
    }),
    refreshAfterMinMs: 60_000,
    refreshAfterMaxMs: 120_000,
    graceMs: 60_000, // serve the stale matrix for up to 60 s while one background reload runs
    negativeTtlMs: 30_000, // events for unknown enterprises do not hit the database every time
  });
}

// --- 4. The embedded default: PGlite -----------------------------------------------------------------------

export function createEmbeddedConfigCache(db: Db & PGliteLike): ConfigCache<RetailCrmConfig> {
  return createConfigCache<RetailCrmConfig>({
    name: 'retailcrm-config',
    loader: retailCrmConfigLoader(db),
    invalidation: createPgliteInvalidationSource({ db, channel: 'integrations_config_changed' }),
  });
}

// --- 5. Operations: metrics, admin endpoints, errors ----------------------------------------------------------

/** Prometheus text exposition of `metrics()`. */
export function toPrometheus(m: ConfigCacheMetrics): string {
  const label = `{cache="${m.name}"}`;
  const lines = [
    `config_cache_size${label} ${m.size}`,
    `config_cache_hits_total${label} ${m.hits}`,
    `config_cache_misses_total${label} ${m.misses}`,
    `config_cache_stale_hits_total${label} ${m.staleHits}`,
    `config_cache_load_failures_total${label} ${m.loadsFailed}`,
    `config_cache_load_timeouts_total${label} ${m.loadTimeouts}`,
    `config_cache_resyncs_total${label} ${m.resyncs}`,
    `config_cache_listener_connected${label} ${m.listenerConnected === false ? 0 : 1}`,
    `config_cache_last_full_refresh_timestamp_ms${label} ${m.lastFullRefreshAt ?? 0}`,
  ];
  for (const bucket of m.loadTimeMs.buckets) {
    const le = bucket.leMs === null ? '+Inf' : String(bucket.leMs / 1000);
    lines.push(`config_cache_load_seconds_bucket{cache="${m.name}",le="${le}"} ${bucket.count}`);
  }
  lines.push(`config_cache_load_seconds_sum${label} ${m.loadTimeMs.sumMs / 1000}`);
  lines.push(`config_cache_load_seconds_count${label} ${m.loadTimeMs.count}`);
  return `${lines.join('\n')}\n`;
}

/** Admin actions: `refresh/{enterprise_number}`, `refresh-all`, `active-enterprises`. */
export const adminActions = (configs: ConfigCache<RetailCrmConfig>) => ({
  refreshOne: async (enterpriseNumber: string) => {
    configs.invalidate(enterpriseNumber); // in-flight loads of this key are discarded
    return configs.get(enterpriseNumber);
  },
  refreshAll: () => configs.refreshAll(), // loadAll + atomic swap; joins a refresh already running
  activeEnterprises: () => configs.keys(),
});

export async function readOrFallback(configs: ConfigCache<RetailCrmConfig>, enterpriseNumber: string) {
  try {
    return await configs.get(enterpriseNumber);
  } catch (error) {
    // load_timeout or refresh_raced (retryable), closed, or whatever your loader threw
    if (isConfigCacheError(error) && error.isRetryable) return undefined;
    throw error;
  }
}

export async function shutdown(configs: ConfigCache<RetailCrmConfig>) {
  await configs.close(); // stops timers and the LISTEN connection, aborts loads; later get() rejects
}

// --- 6. Tests: drive invalidations by hand -------------------------------------------------------------------

export async function manualSourceDemo(loader: ConfigCacheLoader<RetailCrmConfig>) {
  const source = createManualInvalidationSource();
  const cache = createConfigCache<RetailCrmConfig>({ loader, invalidation: source, fullRefreshIntervalMs: 0 });
  await cache.start();
  await cache.get('0367'); // loaded
  source.emit({ key: '0367', payload: '{"enterprise_number":"0367"}' }); // dropped; next get() reloads
  source.setConnected(false); // metrics().listenerConnected === false
  source.resync(); // "notifications may have been missed": everything is dropped and reloaded
  await cache.close();
}
