export { type BackoffOptions, backoffDelay } from './backoff.js';
export { type Clock, type RandomSource, systemClock, type TimerHandle } from './clock.js';
export { type ConfigCacheOptions, createConfigCache } from './config-cache.js';
export { ConfigCacheClosedError, ConfigCacheError, ConfigCacheLoadTimeoutError } from './errors.js';
export { defaultKeyFromPayload } from './key-from-payload.js';
export { createManualInvalidationSource, type ManualInvalidationSource } from './manual-source.js';
export {
  createPgListenInvalidationSource,
  type PgClientLike,
  type PgListenInvalidationSourceOptions,
  quoteIdentifier,
} from './pg-listen-source.js';
export {
  createPgliteInvalidationSource,
  type PGliteLike,
  type PgliteInvalidationSourceOptions,
} from './pglite-source.js';
export type {
  ConfigCache,
  ConfigCacheLoader,
  ConfigCacheLogger,
  ConfigCacheMetrics,
  InvalidationEvent,
  InvalidationListener,
  InvalidationSource,
  LoadTimeHistogram,
} from './types.js';
