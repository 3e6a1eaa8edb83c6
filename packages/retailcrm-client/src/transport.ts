import type { z } from 'zod';
import { backoffDelay, parseRetryAfter, type ResolvedRetryOptions, retryAfterDelay } from './backoff.js';
import type { RandomSource, RetailCrmClock } from './clock.js';
import { encodeForm, encodeQuery, type QueryValue } from './encoding.js';
import {
  formatErrorDetails,
  RetailCrmAccountNotFoundError,
  RetailCrmApiError,
  RetailCrmAuthError,
  RetailCrmError,
  type RetailCrmErrorDetails,
  RetailCrmInvalidResponseError,
  RetailCrmNetworkError,
  RetailCrmRateLimitError,
  RetailCrmRedirectError,
  type RetailCrmRequestInfo,
  RetailCrmTimeoutError,
  RetailCrmValidationError,
} from './errors.js';
import type { RetailCrmLogger } from './logger.js';
import type { RateLimiter, RateLimitPermit } from './rate-limiter.js';
import { redactSecret } from './redact.js';

export interface RequestSpec<T> {
  method: 'GET' | 'POST';
  /** Relative to `/api/v5` (or to `/api` when `versioned` is false), e.g. `/users/7`. */
  path: string;
  /** `false` for the few unversioned methods (`/api/credentials`, `/api/api-versions`). Default true. */
  versioned?: boolean;
  query?: Record<string, QueryValue>;
  form?: Record<string, unknown>;
  schema: z.ZodType<T>;
  /**
   * Safe to send twice: only such requests are retried after a timeout, a network error or a 5xx (the server
   * may have processed them). Rate-limit answers (503/429) are retried regardless: nothing was processed.
   */
  idempotent: boolean;
  /** The caller's cancellation: aborts the wait for a slot, the request and the backoff. */
  signal?: AbortSignal;
}

export interface TransportOptions {
  /** `<account>/api`. */
  apiRoot: string;
  apiKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
  retry: ResolvedRetryOptions | false;
  limiter?: RateLimiter;
  telephonyLimiter?: RateLimiter;
  logger: RetailCrmLogger;
  clock: RetailCrmClock;
  random: RandomSource;
}

export type Transport = <T>(spec: RequestSpec<T>) => Promise<T>;

const TIMEOUT = Symbol('retailcrm-timeout');
/** Reason of the per-request abort that stops the timeout timer: a given reason spares building a DOMException. */
const SETTLED = Symbol('retailcrm-settled');

/** A 3xx, or the opaque redirect a browser's fetch returns for `redirect: 'manual'`. */
const isRedirect = (response: Response) =>
  response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);

function tryParseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toDetails(value: unknown, clean: (text: string) => string): RetailCrmErrorDetails | undefined {
  const text = (item: unknown) => clean(typeof item === 'string' ? item : JSON.stringify(item));
  if (Array.isArray(value)) return value.map(text);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [clean(key), text(item)]));
  }
  return undefined;
}

export function createTransport(options: TransportOptions): Transport {
  const { apiKey, clock, logger } = options;
  const clean = (text: string) => redactSecret(text, apiKey);

  function classify(request: RetailCrmRequestInfo, response: Response, body: unknown, html: boolean): RetailCrmError {
    const envelope = body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
    const errorMsg = typeof envelope?.errorMsg === 'string' ? clean(envelope.errorMsg) : undefined;
    const errors = toDetails(envelope?.errors, clean);
    const where = `RetailCRM ${request.method} ${request.path}`;
    const status = response.status;
    const detail = errorMsg ?? (envelope ? `HTTP ${status}` : `HTTP ${status} (non-JSON body)`);
    const list = formatErrorDetails(errors);
    const message = `${where} failed with ${status}: ${detail}${list.length ? ` (${list.join('; ')})` : ''}`;
    const base = { status, request };

    if (status === 503 || status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      return new RetailCrmRateLimitError(`${where} was rate limited (${status})${errorMsg ? `: ${errorMsg}` : ''}`, {
        ...base,
        retryAfterMs,
        errorMsg,
      });
    }
    // As the official clients: an HTML page instead of a JSON error (Go: any 4xx body starting with '<'; PHP:
    // 405 text/html) is the front's answer for a subdomain with no account behind it.
    if (/account does not exist/i.test(errorMsg ?? '') || (status >= 400 && status < 500 && !envelope && html)) {
      return new RetailCrmAccountNotFoundError(
        `${where} failed with ${status}: account does not exist (check the account URL)`,
        base,
      );
    }
    if (status === 401 || status === 403) {
      return new RetailCrmAuthError(message, { ...base, errorMsg });
    }
    return new RetailCrmApiError(message, {
      ...base,
      errorMsg: errorMsg ?? '',
      errors: errors ?? [],
      isRetryable: status === 500 || status === 502 || status === 504,
    });
  }

  function redirectError(request: RetailCrmRequestInfo, response: Response): RetailCrmRedirectError {
    const location = response.headers.get('location');
    let locationHost = '';
    try {
      if (location) locationHost = new URL(location, options.apiRoot).host;
    } catch {
      // An unparsable Location names no host; the error still says what happened.
    }
    const status = response.status || 302; // an opaque redirect (browsers) hides status and Location
    const target = locationHost ? ` to ${locationHost}` : '';
    return new RetailCrmRedirectError(
      clean(
        `RetailCRM ${request.method} ${request.path} answered ${status} redirecting${target}; redirects are never ` +
          'followed (the API key would go along): set the client url to the final https:// account address',
      ),
      { status, request, locationHost: clean(locationHost) },
    );
  }

  async function attempt<T>(
    spec: RequestSpec<T>,
    request: RetailCrmRequestInfo,
    url: string,
    body: string | undefined,
    permit: RateLimitPermit | undefined,
  ): Promise<T> {
    const controller = new AbortController();
    const settled = new AbortController();
    const external = spec.signal;
    const onExternalAbort = () => controller.abort(external?.reason);
    external?.addEventListener('abort', onExternalAbort, { once: true });
    clock
      .sleep(options.timeoutMs, settled.signal)
      .then(() => controller.abort(TIMEOUT))
      .catch(() => undefined);
    const started = clock.now();
    try {
      external?.throwIfAborted();
      let response: Response;
      let text: string;
      try {
        const headers: Record<string, string> = { 'X-API-KEY': apiKey, Accept: 'application/json' };
        if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
        // A sliding-window permit counts from the moment the request leaves, not from the grant.
        permit?.commit();
        // Never followed: a redirect would carry X-API-KEY to the Location host and turn a POST into a GET.
        response = await options.fetch(url, {
          method: spec.method,
          headers,
          body,
          signal: controller.signal,
          redirect: 'manual',
        });
        // The server has seen the request by now: from here it counts only one window more.
        permit?.complete?.();
        text = await response.text();
      } catch (error) {
        if (external?.aborted) throw external.reason;
        if (controller.signal.reason === TIMEOUT) {
          throw new RetailCrmTimeoutError(
            `RetailCRM ${request.method} ${request.path} timed out after ${options.timeoutMs} ms`,
            { request, timeoutMs: options.timeoutMs },
          );
        }
        const cause = error as { message?: string; cause?: { code?: string; message?: string } };
        const reason = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? 'unknown error';
        throw new RetailCrmNetworkError(clean(`RetailCRM ${request.method} ${request.path} failed: ${reason}`), {
          request,
        });
      }
      if (isRedirect(response)) throw redirectError(request, response);
      const parsedBody = tryParseJson(text);
      logger.debug?.(
        { method: request.method, path: request.path, status: response.status, durationMs: clock.now() - started },
        'retailcrm response',
      );
      const envelope = parsedBody && typeof parsedBody === 'object' ? (parsedBody as { success?: unknown }) : undefined;
      if (!response.ok || envelope?.success === false) {
        throw classify(request, response, parsedBody, /^\s*</.test(text));
      }
      if (parsedBody === undefined) {
        throw new RetailCrmInvalidResponseError(
          `RetailCRM ${request.method} ${request.path} answered ${response.status} with a non-JSON body`,
          { status: response.status, request },
        );
      }
      const parsed = spec.schema.safeParse(parsedBody);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
        throw new RetailCrmInvalidResponseError(
          clean(`RetailCRM ${request.method} ${request.path} answered an unexpected shape: ${issues.join('; ')}`),
          { status: response.status, request },
        );
      }
      return parsed.data;
    } finally {
      permit?.commit();
      permit?.complete?.();
      settled.abort(SETTLED);
      external?.removeEventListener('abort', onExternalAbort);
    }
  }

  return async function send<T>(spec: RequestSpec<T>): Promise<T> {
    const prefix = spec.versioned === false ? '' : '/v5';
    const request: RetailCrmRequestInfo = { method: spec.method, path: `/api${prefix}${spec.path}` };
    const query = spec.query ? encodeQuery(spec.query).toString() : '';
    const url = `${options.apiRoot}${prefix}${spec.path}${query ? `?${query}` : ''}`;
    const limiter = spec.path.startsWith('/telephony/') ? options.telephonyLimiter : options.limiter;
    // Encoded once, before anything is sent: a value JSON cannot carry (a cycle, a BigInt) is the caller's
    // mistake, never a retryable network error.
    let body: string | undefined;
    if (spec.method === 'POST') {
      try {
        body = encodeForm(spec.form ?? {}).toString();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new RetailCrmValidationError(`Cannot encode the form of ${request.method} ${request.path}`, [
          clean(reason),
        ]);
      }
    }
    const retry = options.retry;
    for (let attemptNo = 0; ; attemptNo++) {
      try {
        spec.signal?.throwIfAborted();
        const permit = await limiter?.acquire(spec.signal);
        return await attempt(spec, request, url, body, permit);
      } catch (error) {
        if (!(error instanceof RetailCrmError)) throw error;
        // A rate-limit answer means "not processed": safe to resend whatever the method.
        const rateLimited = error instanceof RetailCrmRateLimitError;
        const canRetry =
          retry !== false && (spec.idempotent || rateLimited) && error.isRetryable && attemptNo < retry.retries;
        if (!canRetry) {
          logger.warn(
            {
              method: request.method,
              path: request.path,
              code: error.code,
              status: error.status,
              attempts: attemptNo + 1,
            },
            'retailcrm request failed',
          );
          throw error;
        }
        const retryAfterMs = rateLimited ? error.retryAfterMs : undefined;
        if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw error;
        const delayMs =
          retryAfterMs !== undefined
            ? retryAfterDelay(retryAfterMs, retry, options.random)
            : backoffDelay(attemptNo, retry, options.random);
        logger.debug?.(
          {
            method: request.method,
            path: request.path,
            code: error.code,
            status: error.status,
            attempt: attemptNo + 1,
            delayMs,
          },
          'retailcrm retry',
        );
        await clock.sleep(delayMs, spec.signal);
      }
    }
  };
}
