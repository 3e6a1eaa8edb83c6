import type { z } from 'zod';
import { backoffDelay, parseRetryAfter, type ResolvedRetryOptions } from './backoff.js';
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
  type RetailCrmRequestInfo,
  RetailCrmTimeoutError,
  RetailCrmValidationError,
} from './errors.js';
import type { RetailCrmLogger } from './logger.js';
import type { RateLimiter, RateLimitPermit } from './rate-limiter.js';
import { redactSecret } from './redact.js';

export interface RequestSpec<T> {
  method: 'GET' | 'POST';
  /** Relative to `/api/v5`, e.g. `/users/7`. */
  path: string;
  query?: Record<string, QueryValue>;
  form?: Record<string, unknown>;
  schema: z.ZodType<T>;
  /** Safe to send twice: only such requests are retried. */
  idempotent: boolean;
  /** The caller's cancellation: aborts the wait for a slot, the request and the backoff. */
  signal?: AbortSignal;
}

export interface TransportOptions {
  apiBase: string;
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

  function classify(request: RetailCrmRequestInfo, response: Response, body: unknown): RetailCrmError {
    const envelope = body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
    const errorMsg = typeof envelope?.errorMsg === 'string' ? clean(envelope.errorMsg) : undefined;
    const errors = toDetails(envelope?.errors, clean);
    const where = `RetailCRM ${request.method} ${request.path}`;
    const status = response.status;
    const detail = errorMsg ?? (envelope ? `HTTP ${status}` : `HTTP ${status} (non-JSON body)`);
    const list = formatErrorDetails(errors);
    const message = `${where} failed with ${status}: ${detail}${list.length ? ` (${list.join('; ')})` : ''}`;
    const base = { status, request };

    if (/account does not exist/i.test(errorMsg ?? '') || (status === 405 && !envelope)) {
      return new RetailCrmAccountNotFoundError(`${where} failed with ${status}: account does not exist`, base);
    }
    if (status === 503 || status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      return new RetailCrmRateLimitError(`${where} was rate limited (${status})`, { ...base, retryAfterMs });
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
        // Counted from the moment it leaves, not from the grant (see createSlidingWindowLimiter).
        permit?.commit();
        response = await options.fetch(url, { method: spec.method, headers, body, signal: controller.signal });
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
      const parsedBody = tryParseJson(text);
      logger.debug?.('retailcrm response', {
        method: request.method,
        path: request.path,
        status: response.status,
        durationMs: clock.now() - started,
      });
      const envelope = parsedBody && typeof parsedBody === 'object' ? (parsedBody as { success?: unknown }) : undefined;
      if (!response.ok || envelope?.success === false) throw classify(request, response, parsedBody);
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
      settled.abort();
      external?.removeEventListener('abort', onExternalAbort);
    }
  }

  return async function send<T>(spec: RequestSpec<T>): Promise<T> {
    const request: RetailCrmRequestInfo = { method: spec.method, path: `/api/v5${spec.path}` };
    const query = spec.query ? encodeQuery(spec.query).toString() : '';
    const url = `${options.apiBase}${spec.path}${query ? `?${query}` : ''}`;
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
        const canRetry = retry !== false && spec.idempotent && error.isRetryable && attemptNo < retry.retries;
        if (!canRetry) {
          logger.warn?.('retailcrm request failed', {
            method: request.method,
            path: request.path,
            code: error.code,
            status: error.status,
            attempts: attemptNo + 1,
          });
          throw error;
        }
        const retryAfterMs = error instanceof RetailCrmRateLimitError ? error.retryAfterMs : undefined;
        if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw error;
        const delayMs = retryAfterMs ?? backoffDelay(attemptNo, retry, options.random);
        logger.debug?.('retailcrm retry', {
          method: request.method,
          path: request.path,
          code: error.code,
          status: error.status,
          attempt: attemptNo + 1,
          delayMs,
        });
        await clock.sleep(delayMs, spec.signal);
      }
    }
  };
}
