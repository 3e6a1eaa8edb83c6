export { type BackoffOptions, backoffDelay } from './backoff.js';
export { type Clock, type RandomSource, systemClock, type TimerHandle } from './clock.js';
export { type ConfigCacheOptions, createConfigCache } from './config-cache.js';
export {
  ConfigCacheClosedError,
  ConfigCacheError,
  type ConfigCacheErrorCode,
  ConfigCacheLoadTimeoutError,
  ConfigCacheMissingPeerError,
  isConfigCacheError,
} from './errors.js';
export { defaultKeyFromPayload } from './key-from-payload.js';
export { createManualInvalidationSource, type ManualInvalidationSource } from './manual-source.js';
// The subpath entries (`./pg`, `./pglite`) hold the same exports; the root re-exports them all.
export * from './pg.js';
export * from './pglite.js';
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
