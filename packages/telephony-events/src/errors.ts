import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';

/** Base error of this package: a stable `code` and whether trying again may help. */
export class TelephonyEventsError extends Error {
  /** Stable snake_case machine code (e.g. `queue_closed`, `ami_timeout`); branch on it, not on the message. */
  readonly code: string;
  /** Whether the same operation may succeed if tried again (a queue retries it; `false` dead-letters at once). */
  readonly isRetryable: boolean;
  constructor(code: string, message: string, options: { isRetryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TelephonyEventsError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** The guard for this package's errors (any subclass); branch on `code` after it. */
export function isTelephonyEventsError(error: unknown): error is TelephonyEventsError {
  return error instanceof TelephonyEventsError;
}

/** Decides whether an error from a CRM call is worth another attempt (unknown errors are: network, timeouts). */
export function isRetryableError(error: unknown): boolean {
  if (error && typeof error === 'object' && 'isRetryable' in error) {
    return (error as { isRetryable: unknown }).isRetryable !== false;
  }
  return true;
}

/** A plain, JSON-friendly description of an error for logs and dead letters. */
export interface ErrorInfo {
  /** The error's class name (cockatiel's policy errors get their class name, not `Error`). */
  name: string;
  /** The error's machine code, when it has one (ours, the client's, or one given to a policy error). */
  code?: string;
  /** The error's message, as is. */
  message: string;
  /** HTTP status of a failed CRM response, when the error carries one. */
  status?: number;
  /** Whether trying again may help; see {@link isRetryableError}. */
  isRetryable: boolean;
}

// cockatiel's errors keep name 'Error'; give them stable codes for logs and dead letters.
const policyCodes: Array<[new (...args: never[]) => Error, string]> = [
  [BrokenCircuitError, 'circuit_open'],
  [TaskCancelledError, 'timeout'],
  [BulkheadRejectedError, 'bulkhead_full'],
];

/** Reduces any thrown value to an {@link ErrorInfo}: stack and cause dropped, policy errors given codes. */
export function describeError(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const extra = error as Error & { code?: unknown; status?: unknown };
    const policy = policyCodes.find(([type]) => error instanceof type);
    const code = typeof extra.code === 'string' ? extra.code : policy?.[1];
    return {
      name: policy && error.name === 'Error' ? error.constructor.name : error.name,
      ...(code ? { code } : {}),
      message: error.message,
      ...(typeof extra.status === 'number' ? { status: extra.status } : {}),
      isRetryable: isRetryableError(error),
    };
  }
  return { name: 'Error', message: String(error), isRetryable: true };
}
