import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, MessengerContractError } from './errors.js';
import { type Clock, type Logger, silentLogger, systemClock } from './ports.js';

/** Constant-time string comparison; lengths are hidden by comparing SHA-256 digests. */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Request headers as fetch `Headers` or a Node/Express header object (names matched case-insensitively). */
export type HeaderBag = Headers | Record<string, string | string[] | undefined>;
/** Query parameters as `URLSearchParams` or a parsed query object (first value of an array is used). */
export type QueryBag = URLSearchParams | Record<string, unknown>;

function header(headers: HeaderBag | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function query(params: QueryBag | undefined, name: string): string | undefined {
  if (params === undefined) return undefined;
  if (params instanceof URLSearchParams) return params.get(name) ?? undefined;
  const value = params[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The parts of an HTTP request that may carry a provider token. */
export interface WebhookRequestParts {
  /** Query parameters; `token` is read from here first. */
  query?: QueryBag | undefined;
  /** Headers; `X-Provider-Token` is read when the query has no token. */
  headers?: HeaderBag | undefined;
}

/** The provider token of a webhook call: query `token`, else header `X-Provider-Token`. */
export function extractProviderToken(request: WebhookRequestParts): string | undefined {
  const value = query(request.query, 'token') ?? header(request.headers, 'x-provider-token');
  return value === undefined || value === '' ? undefined : value;
}

/** Port: where per-tenant provider tokens live (table provider_tokens in the server). */
export interface ProviderTokenStore {
  /** The tenant's token, or undefined when none was created yet. */
  get(tenant: number): Promise<string | undefined>;
  /** Returns the tenant's token, creating it once; concurrent calls return the same token. */
  ensure(tenant: number): Promise<string>;
}

/** In-memory ProviderTokenStore; `generate` is injectable for deterministic tests. */
export class InMemoryProviderTokenStore implements ProviderTokenStore {
  private readonly tokens = new Map<number, string>();
  constructor(private readonly generate: () => string = () => randomBytes(24).toString('hex')) {}

  async get(tenant: number): Promise<string | undefined> {
    return this.tokens.get(tenant);
  }

  async ensure(tenant: number): Promise<string> {
    const existing = this.tokens.get(tenant);
    if (existing !== undefined) return existing;
    const token = this.generate();
    this.tokens.set(tenant, token);
    return token;
  }
}

/**
 * Checks a webhook call against the tenant's provider token. A tenant without a token is always rejected.
 * Answers the seed's 401 code on failure.
 */
export async function verifyProviderToken(
  store: Pick<ProviderTokenStore, 'get'>,
  tenant: number,
  request: WebhookRequestParts,
): Promise<
  | {
      /** The call presented the tenant's token. */
      ok: true;
    }
  | {
      /** The call is rejected. */
      ok: false;
      /** HTTP status to answer. */
      httpStatus: 401;
      /** Code to answer as `{ok:false,error}`. */
      error: typeof ErrorCodes.providerTokenUnauthorized;
    }
> {
  const presented = extractProviderToken(request);
  const expected = await store.get(tenant);
  if (presented !== undefined && expected !== undefined && constantTimeEqual(presented, expected)) return { ok: true };
  return { ok: false, httpStatus: 401, error: ErrorCodes.providerTokenUnauthorized };
}

/** Options of createPublicKeyAuth. */
export interface PublicKeyAuthOptions {
  /** PUBLIC_KEY; when unset the admin token is accepted in compatibility mode. */
  publicKey?: string | undefined;
  /** ADMIN_TOKEN. */
  adminToken: string;
  /** Receives the deprecation warning of the admin-token fallback (default: silent). */
  logger?: Logger;
  /** Time source for the warning interval (default: system clock). */
  clock?: Clock;
  /** Minimum interval between deprecation warnings (default one hour). */
  warnIntervalMs?: number;
}

/** Outcome of PublicKeyAuth.check. */
export type PublicKeyCheck =
  | {
      /** The key is accepted. */
      ok: true;
      /** Which secret matched: PUBLIC_KEY, or ADMIN_TOKEN in the deprecated compatibility mode. */
      via: 'public_key' | 'admin_token_fallback';
    }
  | {
      /** The key is missing or wrong. */
      ok: false;
      /** HTTP status to answer. */
      httpStatus: 401;
      /** Code to answer as `{ok:false,error}`. */
      error: typeof ErrorCodes.invalidKey;
    };

/** Checker of the `?k=` key on public routes, built by createPublicKeyAuth. */
export interface PublicKeyAuth {
  /** Checks the `?k=` value of a public route. */
  check(k: string | undefined): PublicKeyCheck;
}

/** Raised at start-up when PUBLIC_KEY equals ADMIN_TOKEN (the front end would get admin access). */
export class PublicKeyConfigError extends MessengerContractError {
  constructor() {
    super('public_key_equals_admin_token', 'PUBLIC_KEY must differ from ADMIN_TOKEN');
    this.name = 'PublicKeyConfigError';
  }
}

/**
 * Public-route key check (`?k=` only). PUBLIC_KEY must differ from ADMIN_TOKEN. Without PUBLIC_KEY the admin token is
 * accepted and a deprecation warning is logged at most once per interval.
 */
export function createPublicKeyAuth(options: PublicKeyAuthOptions): PublicKeyAuth {
  const { publicKey, adminToken } = options;
  if (adminToken === '') throw new MessengerContractError('admin_token_missing', 'ADMIN_TOKEN is required');
  if (publicKey !== undefined && publicKey !== '' && constantTimeEqual(publicKey, adminToken)) {
    throw new PublicKeyConfigError();
  }
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const interval = options.warnIntervalMs ?? 3_600_000;
  let lastWarn = Number.NEGATIVE_INFINITY;
  const fail = { ok: false, httpStatus: 401, error: ErrorCodes.invalidKey } as const;

  return {
    check(k) {
      if (k === undefined || k === '') return fail;
      if (publicKey !== undefined && publicKey !== '') {
        return constantTimeEqual(k, publicKey) ? { ok: true, via: 'public_key' } : fail;
      }
      if (!constantTimeEqual(k, adminToken)) return fail;
      const now = clock.now();
      if (now - lastWarn >= interval) {
        lastWarn = now;
        logger.warn(
          { event: 'public_key_fallback' },
          'public_key_fallback_deprecated: PUBLIC_KEY is not set, ADMIN_TOKEN accepted on public routes',
        );
      }
      return { ok: true, via: 'admin_token_fallback' };
    },
  };
}
