/** Field errors as RetailCRM sends them: a list of strings or a `{field: message}` object. */
export type RetailCrmErrorDetails = string[] | Record<string, string>;

export type RetailCrmErrorCode =
  | 'RETAILCRM_API_ERROR'
  | 'RETAILCRM_AUTH'
  | 'RETAILCRM_ACCOUNT_NOT_FOUND'
  | 'RETAILCRM_RATE_LIMITED'
  | 'RETAILCRM_REDIRECT'
  | 'RETAILCRM_TIMEOUT'
  | 'RETAILCRM_NETWORK'
  | 'RETAILCRM_INVALID_RESPONSE'
  | 'RETAILCRM_VALIDATION';

/** Where the failing request went. Never contains the API key (it travels only in a header). */
export interface RetailCrmRequestInfo {
  method: string;
  path: string;
}

export interface RetailCrmErrorOptions {
  status?: number;
  request?: RetailCrmRequestInfo;
  isRetryable?: boolean;
  cause?: unknown;
}

/** Base class of every error this package throws; `code` is stable, `message` is for humans. */
export class RetailCrmError extends Error {
  override name = 'RetailCrmError';
  readonly code: RetailCrmErrorCode;
  readonly status?: number;
  readonly isRetryable: boolean;
  readonly request?: RetailCrmRequestInfo;

  constructor(code: RetailCrmErrorCode, message: string, options: RetailCrmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.isRetryable = options.isRetryable ?? false;
    this.request = options.request;
  }

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

export interface RetailCrmHttpErrorOptions extends RetailCrmErrorOptions {
  errorMsg?: string;
  errors?: RetailCrmErrorDetails;
}

/** `{success:false, errorMsg, errors}` or an unexpected HTTP status. 5xx (except 503) is retryable. */
export class RetailCrmApiError extends RetailCrmError {
  override name = 'RetailCrmApiError';
  readonly errorMsg: string;
  readonly errors: RetailCrmErrorDetails;

  constructor(message: string, options: RetailCrmHttpErrorOptions = {}) {
    super('RETAILCRM_API_ERROR', message, options);
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
  override name = 'RetailCrmAuthError';
  readonly errorMsg: string;

  constructor(message: string, options: RetailCrmHttpErrorOptions = {}) {
    super('RETAILCRM_AUTH', message, options);
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
  override name = 'RetailCrmAccountNotFoundError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('RETAILCRM_ACCOUNT_NOT_FOUND', message, options);
  }
}

/**
 * 503 (RetailCRM's answer over the per-key limit) or 429. The request was not processed, so it is retried for
 * every method, idempotent or not.
 */
export class RetailCrmRateLimitError extends RetailCrmError {
  override name = 'RetailCrmRateLimitError';
  /** From `Retry-After` when the server sent one. */
  readonly retryAfterMs?: number;
  /** `errorMsg` of a JSON error body; empty for nginx's HTML page. */
  readonly errorMsg: string;
  constructor(message: string, options: RetailCrmErrorOptions & { retryAfterMs?: number; errorMsg?: string } = {}) {
    super('RETAILCRM_RATE_LIMITED', message, { ...options, isRetryable: true });
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
  override name = 'RetailCrmRedirectError';
  /** Host of the `Location` header (empty when the server sent none or the runtime hides it). */
  readonly locationHost: string;

  constructor(message: string, options: RetailCrmErrorOptions & { locationHost: string }) {
    super('RETAILCRM_REDIRECT', message, { ...options, isRetryable: false });
    this.locationHost = options.locationHost;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), locationHost: this.locationHost };
  }
}

/** No response within `timeoutMs`. Retryable (for idempotent requests). */
export class RetailCrmTimeoutError extends RetailCrmError {
  override name = 'RetailCrmTimeoutError';
  readonly timeoutMs: number;

  constructor(message: string, options: RetailCrmErrorOptions & { timeoutMs: number }) {
    super('RETAILCRM_TIMEOUT', message, { ...options, isRetryable: true });
    this.timeoutMs = options.timeoutMs;
  }
}

/** DNS, connection refused/reset, TLS... Retryable (for idempotent requests). */
export class RetailCrmNetworkError extends RetailCrmError {
  override name = 'RetailCrmNetworkError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('RETAILCRM_NETWORK', message, { ...options, isRetryable: true });
  }
}

/** A 2xx answer that is not JSON or does not match the documented shape. */
export class RetailCrmInvalidResponseError extends RetailCrmError {
  override name = 'RetailCrmInvalidResponseError';

  constructor(message: string, options: RetailCrmErrorOptions = {}) {
    super('RETAILCRM_INVALID_RESPONSE', message, options);
  }
}

/** Rejected before sending: the input would be refused by RetailCRM (or is malformed). */
export class RetailCrmValidationError extends RetailCrmError {
  override name = 'RetailCrmValidationError';
  readonly issues: string[];

  constructor(message: string, issues: string[]) {
    super('RETAILCRM_VALIDATION', issues.length ? `${message}: ${issues.join('; ')}` : message);
    this.issues = issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

export function formatErrorDetails(errors: RetailCrmErrorDetails | undefined): string[] {
  if (!errors) return [];
  if (Array.isArray(errors)) return errors.map(String);
  return Object.entries(errors).map(([field, message]) => `${field}: ${message}`);
}

export function isRetailCrmError(error: unknown): error is RetailCrmError {
  return error instanceof RetailCrmError;
}
