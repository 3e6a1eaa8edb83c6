/** Field errors as RetailCRM sends them: a list of strings or a `{field: message}` object. */
export type RetailCrmErrorDetails = string[] | Record<string, string>;

/**
 * Every `code` a {@link RetailCrmError} carries (snake_case; the server answers `retailcrm_<code>`): `api_error`,
 * `auth`, `account_not_found`, `rate_limited`, `redirect`, `timeout`, `network`, `invalid_response`, `validation`.
 */
export type RetailCrmErrorCode =
  | 'api_error'
  | 'auth'
  | 'account_not_found'
  | 'rate_limited'
  | 'redirect'
  | 'timeout'
  | 'network'
  | 'invalid_response'
  | 'validation';

/** Where the failing request went. Never contains the API key (it travels only in a header). */
export interface RetailCrmRequestInfo {
  /** `GET` or `POST`. */
  method: string;
  /** The API path without the query string, e.g. `/api/v5/users`. */
  path: string;
}

/** What every {@link RetailCrmError} may carry besides its code and message. */
export interface RetailCrmErrorOptions {
  /** The HTTP status, when there was an answer. */
  status?: number;
  /** Where the failing request went. */
  request?: RetailCrmRequestInfo;
  /** Whether the same call may succeed later (default false; the subclasses set their own). */
  isRetryable?: boolean;
  /** The underlying error (a fetch failure, an abort reason). */
  cause?: unknown;
}

/** Base class of every error this package throws; `code` is stable, `message` is for humans. */
export class RetailCrmError extends Error {
  /** Always `'RetailCrmError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmError';
  /** Stable, snake_case; branch on it (with {@link isRetailCrmError}), not on the message. */
  readonly code: RetailCrmErrorCode;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** Whether the failure may pass on retry (the client's retry policy also looks at the method, see the README). */
  readonly isRetryable: boolean;
  /** Where the failing request went (never the key). */
  readonly request?: RetailCrmRequestInfo;

  constructor(code: RetailCrmErrorCode, message: string, options: RetailCrmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.isRetryable = options.isRetryable ?? false;
    this.request = options.request;
  }

  /** A loggable plain object (no stack, no key). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      isRetryable: this.isRetryable,
      request: this.request,
    };
  }
}

/** Options of the errors built from a RetailCRM answer. */
export interface RetailCrmHttpErrorOptions extends RetailCrmErrorOptions {
  /** RetailCRM's `errorMsg`. */
  errorMsg?: string;
  /** RetailCRM's `errors`. */
  errors?: RetailCrmErrorDetails;
}

/** `{success:false, errorMsg, errors}` or an unexpected HTTP status. 5xx (except 503) is retryable. */
export class RetailCrmApiError extends RetailCrmError {
  /** Always `'RetailCrmApiError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmApiError';
  /** RetailCRM's `errorMsg` (empty when the answer had none). */
  readonly errorMsg: string;
  /** RetailCRM's field errors, as sent. */
  readonly errors: RetailCrmErrorDetails;

  constructor(message: string, options: RetailCrmHttpErrorOptions = {}) {
    super('api_error', message, options);
    this.errorMsg = options.errorMsg ?? '';
    this.errors = options.errors ?? [];
  }

  /** Errors flattened to `field: message` lines, as RetailCRM's UI shows them. */
  errorList(): string[] {
    return formatErrorDetails(this.errors);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), errorMsg: this.errorMsg, errors: this.errors };
  }
}

/** 401/403: wrong API key (`Wrong "apiKey" value.`) or the key lacks access (`Access denied.`). */
export class RetailCrmAuthError extends RetailCrmError {
  /** Always `'RetailCrmAuthError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmAuthError';
  /** RetailCRM's `errorMsg`. */
  readonly errorMsg: string;

  constructor(message: string, options: RetailCrmHttpErrorOptions = {}) {
    super('auth', message, options);
    this.errorMsg = options.errorMsg ?? '';
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), errorMsg: this.errorMsg };
  }
}

/**
 * The account (subdomain) does not exist: an HTML answer to a 4xx (what RetailCRM's front serves for an unknown
 * subdomain; the official clients read it so), or `Account does not exist.`
 */
export class RetailCrmAccountNotFoundError extends RetailCrmError {
  /** Always `'RetailCrmAccountNotFoundError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmAccountNotFoundError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('account_not_found', message, options);
  }
}

/**
 * 503 (RetailCRM's answer over the per-key limit) or 429. The request was not processed, so it is retried for
 * every method, idempotent or not.
 */
export class RetailCrmRateLimitError extends RetailCrmError {
  /** Always `'RetailCrmRateLimitError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmRateLimitError';
  /** From `Retry-After` when the server sent one. */
  readonly retryAfterMs?: number;
  /** `errorMsg` of a JSON error body; empty for nginx's HTML page. */
  readonly errorMsg: string;
  constructor(message: string, options: RetailCrmErrorOptions & { retryAfterMs?: number; errorMsg?: string } = {}) {
    super('rate_limited', message, { ...options, isRetryable: true });
    this.retryAfterMs = options.retryAfterMs;
    this.errorMsg = options.errorMsg ?? '';
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs, errorMsg: this.errorMsg };
  }
}

/**
 * The account URL answered a 3xx. Never followed: the API key would travel to the `Location` host and a POST
 * would turn into a GET that "succeeds" without sending anything. A configuration error: fix the URL.
 */
export class RetailCrmRedirectError extends RetailCrmError {
  /** Always `'RetailCrmRedirectError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmRedirectError';
  /** Host of the `Location` header (empty when the server sent none or the runtime hides it). */
  readonly locationHost: string;

  constructor(message: string, options: RetailCrmErrorOptions & { locationHost: string }) {
    super('redirect', message, { ...options, isRetryable: false });
    this.locationHost = options.locationHost;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), locationHost: this.locationHost };
  }
}

/** No response within `timeoutMs`. Retryable (for idempotent requests). */
export class RetailCrmTimeoutError extends RetailCrmError {
  /** Always `'RetailCrmTimeoutError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmTimeoutError';
  /** The per-attempt timeout that expired. */
  readonly timeoutMs: number;

  constructor(message: string, options: RetailCrmErrorOptions & { timeoutMs: number }) {
    super('timeout', message, { ...options, isRetryable: true });
    this.timeoutMs = options.timeoutMs;
  }
}

/** DNS, connection refused/reset, TLS... Retryable (for idempotent requests). */
export class RetailCrmNetworkError extends RetailCrmError {
  /** Always `'RetailCrmNetworkError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmNetworkError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('network', message, { ...options, isRetryable: true });
  }
}

/** A 2xx answer that is not JSON or does not match the documented shape. */
export class RetailCrmInvalidResponseError extends RetailCrmError {
  /** Always `'RetailCrmInvalidResponseError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmInvalidResponseError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('invalid_response', message, options);
  }
}

/** Rejected before sending: the input would be refused by RetailCRM (or is malformed). */
export class RetailCrmValidationError extends RetailCrmError {
  /** Always `'RetailCrmValidationError'` (a literal, so it survives bundling); branch on `code`, not on this. */
  override name = 'RetailCrmValidationError';
  /** What is wrong, one line per problem. */
  readonly issues: string[];

  constructor(message: string, issues: string[]) {
    super('validation', issues.length ? `${message}: ${issues.join('; ')}` : message);
    this.issues = issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** RetailCRM's `errors` as `field: message` lines. */
export function formatErrorDetails(errors: RetailCrmErrorDetails | undefined): string[] {
  if (!errors) return [];
  if (Array.isArray(errors)) return errors.map(String);
  return Object.entries(errors).map(([field, message]) => `${field}: ${message}`);
}

/** Whether `error` was thrown by this package (any {@link RetailCrmError}); then branch on its `code`. */
export function isRetailCrmError(error: unknown): error is RetailCrmError {
  return error instanceof RetailCrmError;
}

/** A {@link RetailCrmApiError} (`code` `api_error`): `errorMsg`, `errors` and `errorList()` are there to read. */
export function isRetailCrmApiError(error: unknown): error is RetailCrmApiError {
  return error instanceof RetailCrmApiError;
}

/** A {@link RetailCrmRateLimitError} (`code` `rate_limited`): `retryAfterMs` says when to come back, if sent. */
export function isRetailCrmRateLimitError(error: unknown): error is RetailCrmRateLimitError {
  return error instanceof RetailCrmRateLimitError;
}

/** A {@link RetailCrmValidationError} (`code` `validation`): `issues` lists what to fix before sending again. */
export function isRetailCrmValidationError(error: unknown): error is RetailCrmValidationError {
  return error instanceof RetailCrmValidationError;
}
