/** Stable error/reason codes; strings are the seed's exact wording. */
export const ErrorCodes = {
  /** 403: sending is switched off (OUTBOX_ENABLED false). */
  outboxDisabled: 'outbox_disabled',
  /** 403: the recipient is not on OUTBOX_WHITELIST. */
  notWhitelisted: 'not_whitelisted',
  /** 404: no CRM lead for the recipient; nothing is sent (a warning only when the lead store is down). */
  noLead: 'err:no_lead',
  /** Avito: a send to a user whose chat is not known yet (no webhook from that user seen). */
  missingChat: 'missing_chat',
  /** 401: the `?k=` key of a public route is missing or wrong. */
  invalidKey: 'invalid_key',
  /** 422: the body violates the contract (details in `issues`). */
  invalidPayload: 'invalid_payload',
  /** 422: a `qr` event without a usable SVG. */
  invalidQr: 'invalid_qr',
  /** The provider rejected our credentials (Avito OAuth). */
  unauthorized: 'unauthorized',
  /** 401: a webhook call without the tenant's provider token. */
  providerTokenUnauthorized: 'provider_token_unauthorized',
  /** 409: the tenant already has an access key. */
  keyAlreadyExists: 'key_already_exists',
  /** 409 from the Telegram worker: the session is already logged in. */
  alreadyAuthorized: 'already_authorized',
  /** 404 from the Telegram worker: no such QR code. */
  qrNotFound: 'qr_not_found',
  /** 410 from the Telegram worker: the QR code is no longer valid; start a new login. */
  qrExpired: 'qr_expired',
  /** The Telegram worker is down or timed out (5xx / 408); retryable. */
  tgUnavailable: 'tg_unavailable',
  /** 401 from the Telegram worker: wrong 2FA password. */
  badPassword: 'bad_password',
  /** 409 from the Telegram worker: a 2FA password was sent while none is expected. */
  notWaiting2fa: 'not_waiting_2fa',
  /** The recipient / sender address is invalid (InvalidTargetError). */
  invalidTarget: 'invalid_target',
  /** The text exceeds the provider's limit (AdapterCapabilities.maxTextLength). */
  textTooLong: 'text_too_long',
  /** The provider cannot send attachments and the message has nothing else to send. */
  unsupportedAttachments: 'unsupported_attachments',
  /** The upstream is unreachable or answered 5xx; retryable. */
  upstreamUnavailable: 'upstream_unavailable',
  /** The upstream answered 429; retry after `retryAfter` seconds. */
  upstreamRateLimited: 'upstream_rate_limited',
  /** Any other upstream failure (4xx without a code of its own, unreadable body). */
  upstreamError: 'upstream_error',
  /** 409 from the WhatsApp worker: the session is not logged in yet. */
  sessionNotReady: 'session_not_ready',
} as const;
/** One of the ErrorCodes values. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Base class: every error of this package has a stable `code`, and says whether repeating the same call can help
 * (`isRetryable`, false unless an upstream failure says otherwise) and after how many seconds (`retryAfter`).
 */
export class MessengerContractError extends Error {
  /** Stable machine-readable code (snake_case, usually one of ErrorCodes). */
  readonly code: string;
  /** Whether repeating the same call later can succeed. */
  readonly isRetryable: boolean;
  /** Seconds to wait before retrying, when the upstream said (Retry-After); otherwise undefined. */
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
  /** The rejected input, masked to its last 4 characters (it is personal data). */
  readonly input: string;
  constructor(input: string, reason: string) {
    super(ErrorCodes.invalidTarget, `invalid target: ${reason}`);
    this.name = 'InvalidTargetError';
    // Keep only a masked copy: targets are personal data (phone numbers).
    this.input = maskIdentifier(input);
  }
}

/** Constructor options of AdapterError. */
export interface AdapterErrorOptions {
  /** Provider or worker that failed (`telegram`, `whatsapp`, `avito`). */
  provider: string;
  /** Stable error code: the upstream's own code when it gave one, else one of ErrorCodes. */
  code: string;
  /** Human-readable summary; never holds the upstream body or a secret. */
  message: string;
  /** Whether repeating the call later can succeed (timeouts, 408, 425, 429, 5xx). */
  isRetryable: boolean;
  /** Seconds the caller should wait before retrying (from Retry-After), when known. */
  retryAfter?: number | undefined;
  /** HTTP status of the upstream answer; undefined when no answer came (network error, timeout). */
  status?: number | undefined;
  /** Upstream body, truncated; never part of `message`. */
  responseBody?: string | undefined;
  /** The underlying error (network failure, JSON parse error). */
  cause?: unknown;
}

/** Failure of an upstream call (worker or provider API). */
export class AdapterError extends MessengerContractError {
  /** Provider or worker that failed. */
  readonly provider: string;
  /** HTTP status of the upstream answer; undefined when no answer came. */
  readonly status: number | undefined;
  /** Upstream body, truncated; for diagnostics, never shown to end users. */
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

  /** Type guard: `value` is an AdapterError (`instanceof`). */
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
