/** Base class of every error this package throws; `code` is stable and machine-readable. */
export class PhoneProtocolError extends Error {
  /** Machine-readable snake_case code (`network_error`, `auth_failed`, `http_503`, …). */
  readonly code: string;
  /** Whether the same call may succeed later (network errors, 429, 5xx). */
  readonly isRetryable: boolean;
  constructor(code: string, message: string, options: { isRetryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PhoneProtocolError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** The server answered with a status the client could not turn into a result. */
export class PhoneHttpError extends PhoneProtocolError {
  /** The HTTP status. */
  readonly status: number;
  /** The parsed JSON body (or the text when it was not JSON). */
  readonly body: unknown;
  /** The server's `Retry-After` in ms (429/503), when it sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, body: unknown, endpoint: string, retryAfterMs?: number) {
    super(`http_${status}`, `${endpoint} answered HTTP ${status}`, {
      isRetryable: status === 429 || status >= 500,
    });
    this.name = 'PhoneHttpError';
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Credentials or tokens were rejected and a refresh did not help: the device must log in again. */
export class PhoneAuthError extends PhoneProtocolError {
  /** The HTTP status of the refused request (401/403). */
  readonly status: number;
  constructor(status: number, detail: string) {
    super('auth_failed', `authentication failed (${status}): ${detail}`);
    this.name = 'PhoneAuthError';
    this.status = status;
  }
}

/** True for any error this package throws; branch on `code` after it. */
export function isPhoneProtocolError(error: unknown): error is PhoneProtocolError {
  return error instanceof PhoneProtocolError;
}
