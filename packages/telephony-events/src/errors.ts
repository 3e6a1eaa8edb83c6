import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';

/** Base error of this package: a stable `code` and whether trying again may help. */
export class TelephonyEventsError extends Error {
  readonly code: string;
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
  name: string;
  code?: string;
  message: string;
  status?: number;
  isRetryable: boolean;
}

// cockatiel's errors keep name 'Error'; give them stable codes for logs and dead letters.
const policyCodes: Array<[new (...args: never[]) => Error, string]> = [
  [BrokenCircuitError, 'circuit_open'],
  [TaskCancelledError, 'timeout'],
  [BulkheadRejectedError, 'bulkhead_full'],
];

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
