import { AdapterError, ErrorCodes } from './errors.js';
import type { Clock, FetchLike } from './ports.js';

export interface HttpCallOptions {
  provider: string;
  fetch: FetchLike;
  clock: Clock;
  /** Per-request timeout (default 15 s, the seed's download timeout). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

const BODY_LIMIT = 500;

/** Parses Retry-After (delta seconds or HTTP date) into seconds. */
export function parseRetryAfter(value: string | null, clock: Clock): number | undefined {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return undefined;
  // Fractional seconds are rounded up; other bare numbers ("-1") are not dates, whatever Date.parse thinks.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  if (/^[-+]?[\d.]+$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - clock.now()) / 1000));
}

/** Performs a request; network failures and timeouts become retryable AdapterErrors. Returns the raw Response. */
export async function httpCall(url: string, init: RequestInit, options: HttpCallOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  try {
    return await options.fetch(url, { ...init, signal });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new AdapterError({
      provider: options.provider,
      code: ErrorCodes.upstreamUnavailable,
      message: `${options.provider}: ${init.method ?? 'GET'} ${pathOf(url)} failed: ${timeout.aborted ? 'timeout' : 'network error'}`,
      isRetryable: true,
      cause,
    });
  }
}

/**
 * Turns a non-2xx response into an AdapterError: 408/425/429/5xx are retryable (with Retry-After), other 4xx are
 * not. The upstream `error` string, when present, becomes the code unless `codeFor` maps the status.
 */
export async function errorFromResponse(
  response: Response,
  url: string,
  options: Pick<HttpCallOptions, 'provider' | 'clock'> & {
    codeFor?: (status: number, upstream?: string) => string | undefined;
  },
): Promise<AdapterError> {
  const text = await response.text().catch(() => '');
  let upstream: string | undefined;
  try {
    const json = JSON.parse(text) as { error?: unknown; detail?: unknown };
    const candidate = json.error ?? json.detail;
    if (typeof candidate === 'string' && /^[a-z0-9_:.-]{1,64}$/i.test(candidate)) upstream = candidate;
  } catch {
    // not JSON
  }
  const status = response.status;
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  const code =
    options.codeFor?.(status, upstream) ??
    upstream ??
    (status === 429
      ? ErrorCodes.upstreamRateLimited
      : status >= 500
        ? ErrorCodes.upstreamUnavailable
        : ErrorCodes.upstreamError);
  return new AdapterError({
    provider: options.provider,
    code,
    message: `${options.provider}: ${pathOf(url)} answered ${status}`,
    isRetryable: retryable,
    retryAfter: parseRetryAfter(response.headers.get('retry-after'), options.clock),
    status,
    responseBody: text.slice(0, BODY_LIMIT),
  });
}

/** Reads a JSON body; an unparsable success body is a non-retryable protocol error. */
export async function readJson(response: Response, url: string, provider: string): Promise<unknown> {
  const text = await response.text();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AdapterError({
      provider,
      code: ErrorCodes.upstreamError,
      message: `${provider}: ${pathOf(url)} returned a non-JSON body`,
      isRetryable: false,
      status: response.status,
      responseBody: text.slice(0, BODY_LIMIT),
      cause,
    });
  }
}

/** Path without query string: queries may carry tokens, so they never reach messages. */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
