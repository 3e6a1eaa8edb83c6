/** Stable error/reason codes; strings are the seed's exact wording. */
export const ErrorCodes = {
  outboxDisabled: 'outbox_disabled',
  notWhitelisted: 'not_whitelisted',
  noLead: 'err:no_lead',
  missingChat: 'missing_chat',
  invalidKey: 'invalid_key',
  invalidPayload: 'invalid_payload',
  invalidQr: 'invalid_qr',
  unauthorized: 'unauthorized',
  providerTokenUnauthorized: 'provider_token_unauthorized',
  keyAlreadyExists: 'key_already_exists',
  alreadyAuthorized: 'already_authorized',
  qrNotFound: 'qr_not_found',
  qrExpired: 'qr_expired',
  tgUnavailable: 'tg_unavailable',
  badPassword: 'bad_password',
  notWaiting2fa: 'not_waiting_2fa',
  invalidTarget: 'invalid_target',
  textTooLong: 'text_too_long',
  unsupportedAttachments: 'unsupported_attachments',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamRateLimited: 'upstream_rate_limited',
  upstreamError: 'upstream_error',
  sessionNotReady: 'session_not_ready',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Base class: every error of this package has a stable `code`, and says whether repeating the same call can help
 * (`isRetryable`, false unless an upstream failure says otherwise) and after how many seconds (`retryAfter`).
 */
export class MessengerContractError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;
  readonly retryAfter: number | undefined;
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; isRetryable?: boolean; retryAfter?: number | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MessengerContractError';
    this.code = code;
    this.isRetryable = options?.isRetryable ?? false;
    this.retryAfter = options?.retryAfter;
  }
}

/** The guard for this package's errors (any subclass); branch on `code` after it. */
export function isMessengerContractError(error: unknown): error is MessengerContractError {
  return error instanceof MessengerContractError;
}

/** Invalid address / recipient (WhatsApp number, Telegram target, Avito chat). */
export class InvalidTargetError extends MessengerContractError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(ErrorCodes.invalidTarget, `invalid target: ${reason}`);
    this.name = 'InvalidTargetError';
    // Keep only a masked copy: targets are personal data (phone numbers).
    this.input = maskIdentifier(input);
  }
}

export interface AdapterErrorOptions {
  provider: string;
  code: string;
  message: string;
  isRetryable: boolean;
  /** Seconds the caller should wait before retrying (from Retry-After), when known. */
  retryAfter?: number | undefined;
  status?: number | undefined;
  /** Upstream body, truncated; never part of `message`. */
  responseBody?: string | undefined;
  cause?: unknown;
}

/** Failure of an upstream call (worker or provider API). */
export class AdapterError extends MessengerContractError {
  readonly provider: string;
  readonly status: number | undefined;
  readonly responseBody: string | undefined;
  constructor(options: AdapterErrorOptions) {
    super(options.code, options.message, {
      cause: options.cause,
      isRetryable: options.isRetryable,
      retryAfter: options.retryAfter,
    });
    this.name = 'AdapterError';
    this.provider = options.provider;
    this.status = options.status;
    this.responseBody = options.responseBody;
  }

  static is(value: unknown): value is AdapterError {
    return value instanceof AdapterError;
  }
}

/** Masks all but the last 4 characters, for logs and error fields. */
export function maskIdentifier(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  return `${'*'.repeat(Math.min(value.length - 4, 8))}${value.slice(-4)}`;
}

/** Guards an adapter against a message routed to the wrong channel (a programming error, never retryable). */
export function assertChannel(message: { channel: string }, expected: string): void {
  if (message.channel !== expected) {
    throw new MessengerContractError(
      'channel_mismatch',
      `message for ${message.channel} sent to the ${expected} adapter`,
    );
  }
}
