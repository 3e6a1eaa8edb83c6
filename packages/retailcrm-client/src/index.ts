// The root entry holds what an application calls (docs/conventions.md, "Public surface"): wire encoders,
// pagination and the 0.1.0 sliding-window limiter are private.
export type { RetryOptions } from './backoff.js';
export {
  createRetailCrmClient,
  MAX_CALLS_PER_UPLOAD,
  type RateLimitOptions,
  type RequestOptions,
  type RetailCrmClient,
  type RetailCrmClientOptions,
} from './client.js';
export { type RandomSource, type RetailCrmClock, systemClock } from './clock.js';
export { formatRetailCrmDateTime } from './datetime.js';
export {
  isRetailCrmApiError,
  isRetailCrmError,
  isRetailCrmRateLimitError,
  isRetailCrmValidationError,
  RetailCrmAccountNotFoundError,
  RetailCrmApiError,
  RetailCrmAuthError,
  RetailCrmError,
  type RetailCrmErrorCode,
  type RetailCrmErrorDetails,
  type RetailCrmErrorOptions,
  type RetailCrmHttpErrorOptions,
  RetailCrmInvalidResponseError,
  RetailCrmNetworkError,
  RetailCrmRateLimitError,
  RetailCrmRedirectError,
  type RetailCrmRequestInfo,
  RetailCrmTimeoutError,
  RetailCrmValidationError,
} from './errors.js';
export { buildTelephonyIntegrationModule, type TelephonyIntegrationModuleInput } from './integration-module-builder.js';
export type { RetailCrmLogger } from './logger.js';
export {
  createMemoryPacingStore,
  createPacingLimiter,
  DEFAULT_SAFETY_MARGIN,
  type PacingLimiterOptions,
  type PacingRequest,
  type PacingStore,
} from './pacing-limiter.js';
export type { RateLimiter, RateLimitPermit } from './rate-limiter.js';
export { maskApiKey } from './redact.js';
export * from './schemas/common.js';
export * from './schemas/credentials.js';
export * from './schemas/customers.js';
export * from './schemas/integration-module.js';
export * from './schemas/notes.js';
export * from './schemas/settings.js';
export * from './schemas/sites.js';
export * from './schemas/tasks.js';
export * from './schemas/telephony.js';
export * from './schemas/users.js';
