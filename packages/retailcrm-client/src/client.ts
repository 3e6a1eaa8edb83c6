import type { z } from 'zod';
import { defaultRetryOptions, type RetryOptions } from './backoff.js';
import { type RandomSource, type RetailCrmClock, systemClock } from './clock.js';
import type { QueryValue } from './encoding.js';
import { RetailCrmValidationError } from './errors.js';
import { sharedKeyLimiters } from './limiter-registry.js';
import { type RetailCrmLogger, silentLogger } from './logger.js';
import { createPacingLimiter, DEFAULT_SAFETY_MARGIN } from './pacing-limiter.js';
import { paginate } from './pagination.js';
import type { RateLimiter } from './rate-limiter.js';
import {
  type CreateResponse,
  createResponseSchema,
  type PageLimit,
  type Pagination,
  type SuccessResponse,
  successResponseSchema,
} from './schemas/common.js';
import {
  type ApiVersionsResponse,
  apiVersionsResponseSchema,
  type CredentialsResponse,
  credentialsResponseSchema,
} from './schemas/credentials.js';
import {
  type CustomerInput,
  type CustomerLookupOptions,
  type CustomerResponse,
  type CustomersListParams,
  type CustomersListResponse,
  customerResponseSchema,
  customersListResponseSchema,
  type RetailCrmCustomer,
} from './schemas/customers.js';
import {
  type IntegrationModule,
  type IntegrationModuleEditResponse,
  type IntegrationModuleResponse,
  type IntegrationModuleUpdateScopesResponse,
  integrationModuleEditResponseSchema,
  integrationModuleResponseSchema,
  integrationModuleUpdateScopesResponseSchema,
} from './schemas/integration-module.js';
import {
  type CustomerNoteCreateResponse,
  type CustomerNoteInput,
  customerNoteCreateResponseSchema,
  customerNoteInputSchema,
} from './schemas/notes.js';
import { type SettingsResponse, settingsResponseSchema } from './schemas/settings.js';
import { type SitesResponse, sitesResponseSchema } from './schemas/sites.js';
import { type TaskCreateResponse, type TaskInput, taskCreateResponseSchema, taskInputSchema } from './schemas/tasks.js';
import {
  type CallEvent,
  type CallEventResponse,
  type CallRecord,
  callEventResponseSchema,
  callEventSchema,
  callRecordSchema,
  type ResponsibleManagerParams,
  type ResponsibleManagerResponse,
  responsibleManagerResponseSchema,
  type UploadCallsResponse,
  uploadCallsResponseSchema,
} from './schemas/telephony.js';
import {
  type RetailCrmUser,
  type RetailCrmUserStatus,
  type UserGroupsListParams,
  type UserGroupsResponse,
  type UserResponse,
  type UsersListParams,
  type UsersListResponse,
  userGroupsResponseSchema,
  userResponseSchema,
  userStatusValues,
  usersListResponseSchema,
} from './schemas/users.js';
import { createTransport } from './transport.js';

/** RetailCRM accepts at most this many calls per `/telephony/calls/upload` request. */
export const MAX_CALLS_PER_UPLOAD = 50;

/** Client-side pacing of requests under RetailCRM's per-key limits (the `rateLimit` option). */
export interface RateLimitOptions {
  /** Requests per second for everything except `/telephony/*` (default 10, RetailCRM's per-key limit). */
  perSecond?: number;
  /** Requests per second for `/telephony/*` (default 40). */
  telephonyPerSecond?: number;
  /** Window the server counts in (default 1000 ms). */
  windowMs?: number;
  /**
   * Fraction of the limit left unused by pacing (default 0.02: 9.8 of 10 rps). Requests are paced evenly (burst
   * 1), and a request counts until one window after its answer arrived, so the server never counts more than the
   * limit in any window whatever the network delays.
   */
  safetyMargin?: number;
  /**
   * `'key'` (default): every client of this process with the same account URL, API key and limits shares one
   * budget, so building a client per operation stays within RetailCRM's limit. `'client'`: private to this
   * client. A client with an injected `clock` always gets private limiters. For several processes sharing a key,
   * pass Redis-backed limiters from `@callbridge/retailcrm-client/redis`.
   */
  scope?: 'key' | 'client';
  /** Bring your own limiters (e.g. `createRedisRateLimiters`); overrides `scope`. */
  limiter?: RateLimiter;
  /** The limiter for `/telephony/*` when you bring your own (default: one paced at `telephonyPerSecond`). */
  telephonyLimiter?: RateLimiter;
}

/** Options of {@link createRetailCrmClient}. */
export interface RetailCrmClientOptions {
  /** Account URL, e.g. `https://demo.retailcrm.ru` (a trailing `/api/v5` is accepted). */
  url: string;
  /** The account's API key (trimmed); sent only in the `X-API-KEY` header, never logged. */
  apiKey: string;
  /** The fetch to call (default the global one; always called with `redirect: 'manual'`). Inject it for msw or undici. */
  fetch?: typeof fetch;
  /**
   * Accept an `http:` url for a host that is not loopback or a reserved test name (`localhost`, `127.0.0.0/8`,
   * `[::1]`, `*.localhost`, `*.test`, `*.example`, `*.invalid`). Off by default: the key would travel in clear.
   */
  allowInsecureHttp?: boolean;
  /** Per attempt (default 10 000 ms). */
  timeoutMs?: number;
  /**
   * Backoff with jitter. 503/429 (rate limited: not processed) are retried for every method, honouring
   * `Retry-After`; timeouts, network errors and 500/502/504 only for idempotent requests. `false` disables retries.
   */
  retry?: RetryOptions | false;
  /** Client-side limiter; `false` disables it. */
  rateLimit?: RateLimitOptions | false;
  /** Answers, retries and final failures (pino as is); default silent. */
  logger?: RetailCrmLogger;
  /** Time for timeouts, backoff and pacing (default {@link systemClock}); tests pass `createManualClock()` from `./testing`. */
  clock?: RetailCrmClock;
  /** Jitter source (default `Math.random`). */
  random?: RandomSource;
}

/** Per-call options accepted by every method. */
export interface RequestOptions {
  /** Cancels the call (waiting for a rate-limit slot, the request, the backoff); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A RetailCRM API v5 client for one account and key; create it with {@link createRetailCrmClient}. */
export interface RetailCrmClient {
  /** Account base URL (never the key). */
  readonly url: string;
  /** `GET /api/credentials`: the methods and scopes of the key. */
  credentials(options?: RequestOptions): Promise<CredentialsResponse>;
  /** `GET /api/api-versions`. */
  apiVersions(options?: RequestOptions): Promise<ApiVersionsResponse>;
  /** `GET /api/v5/settings`: currency, language, `timezone.value` (the zone call dates are read in), work times. */
  settings: {
    /** `GET /api/v5/settings`: the account's settings. */
    get(options?: RequestOptions): Promise<SettingsResponse>;
  };
  /** Sites (stores) of the account. */
  sites: {
    /** `GET /api/v5/reference/sites`: keyed by site code. */
    list(options?: RequestOptions): Promise<SitesResponse>;
  };
  /** Managers. */
  users: {
    /** `GET /api/v5/users`: one page (filter, `page`, `limit` 20/50/100). */
    list(params?: UsersListParams, options?: RequestOptions): Promise<UsersListResponse>;
    /** Every user matching `params`, page after page. */
    iterate(params?: UsersListParams, options?: RequestOptions): AsyncIterable<RetailCrmUser>;
    /** `GET /api/v5/users/{id}`. */
    get(id: number, options?: RequestOptions): Promise<UserResponse>;
    /** `POST /api/v5/users/{id}/status`: `free`, `busy`, `dinner` or `break`. */
    setStatus(id: number, status: RetailCrmUserStatus, options?: RequestOptions): Promise<SuccessResponse>;
  };
  /** Manager groups. */
  userGroups: {
    /** `GET /api/v5/user-groups`: one page. */
    list(params?: UserGroupsListParams, options?: RequestOptions): Promise<UserGroupsResponse>;
  };
  /** Customers. */
  customers: {
    /** `GET /api/v5/customers`: one page (filter by phone, name, …). */
    list(params?: CustomersListParams, options?: RequestOptions): Promise<CustomersListResponse>;
    /** Every customer matching `params`, page after page. */
    iterate(params?: CustomersListParams, options?: RequestOptions): AsyncIterable<RetailCrmCustomer>;
    /** `GET /api/v5/customers/{id}` (by `id` or `externalId`, see `by`). */
    get(id: string | number, options?: CustomerLookupOptions & RequestOptions): Promise<CustomerResponse>;
    /** `POST /api/v5/customers/create`; retried only on rate-limit answers (not processed). */
    create(customer: CustomerInput, options?: { site?: string } & RequestOptions): Promise<CreateResponse>;
    /** `POST /api/v5/customers/{id}/edit` (idempotent). */
    edit(
      id: string | number,
      customer: CustomerInput,
      options?: CustomerLookupOptions & RequestOptions,
    ): Promise<CreateResponse>;
    /** Customer notes. */
    notes: {
      /** Never replayed after a timeout or 5xx: RetailCRM does not de-duplicate notes. */
      create(
        note: CustomerNoteInput,
        options?: { site?: string } & RequestOptions,
      ): Promise<CustomerNoteCreateResponse>;
    };
  };
  /** Tasks. */
  tasks: {
    /** Not retried on timeouts or 5xx: RetailCRM does not de-duplicate tasks, a replay makes a second one. */
    create(task: TaskInput, options?: { site?: string } & RequestOptions): Promise<TaskCreateResponse>;
  };
  /** The integration module (marketplace registration) of this integration. */
  integrationModules: {
    /** `GET /api/v5/integration-modules/{code}`. */
    get(code: string, options?: RequestOptions): Promise<IntegrationModuleResponse>;
    /** `POST /api/v5/integration-modules/{code}/edit`: creates or updates (build it with `buildTelephonyIntegrationModule`). */
    edit(module: IntegrationModule, options?: RequestOptions): Promise<IntegrationModuleEditResponse>;
    /**
     * Asks for more access scopes (`requires.scopes`); answers with a NEW key carrying them. Treat `apiKey` as a
     * secret: store it where the old key was and build a new client with it.
     */
    updateScopes(
      code: string,
      scopes: readonly string[],
      options?: RequestOptions,
    ): Promise<IntegrationModuleUpdateScopesResponse>;
  };
  /** Telephony: call events, call history, responsible manager. */
  telephony: {
    /** `POST /api/v5/telephony/call/event`. Not retried unless `options.retry === true`: RetailCRM does not de-duplicate call events. */
    callEvent(event: CallEvent, options?: { retry?: boolean } & RequestOptions): Promise<CallEventResponse>;
    /** Split into requests of <= 50 calls; retried (RetailCRM de-duplicates by `externalId`); results merged. */
    uploadCalls(calls: readonly CallRecord[], options?: RequestOptions): Promise<UploadCallsResponse>;
    /** `GET /api/v5/telephony/manager`: who answers calls from `phone` (with `details`, the manager's extension). */
    responsibleManager(params: ResponsibleManagerParams, options?: RequestOptions): Promise<ResponsibleManagerResponse>;
  };
  /** `{ url }` only: a client serialised into a log never carries its key. */
  toJSON(): {
    /** Same as {@link RetailCrmClient.url}. */
    url: string;
  };
}

/** Hosts where plain `http:` cannot leak a key to the internet: loopback and names reserved for testing. */
function isLoopbackOrTestHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)) return true;
  return /\.(localhost|test|example|invalid)$/.test(host);
}

function normaliseBaseUrl(raw: string, allowInsecureHttp: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new RetailCrmValidationError('Invalid RetailCRM url', [
      'url must be absolute, e.g. https://demo.retailcrm.ru',
    ]);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new RetailCrmValidationError('Invalid RetailCRM url', ['url must use http or https']);
  }
  if (parsed.protocol === 'http:' && !allowInsecureHttp && !isLoopbackOrTestHost(parsed.hostname)) {
    throw new RetailCrmValidationError('Insecure RetailCRM url', [
      `http://${parsed.host} would send the API key in clear: use https:// (or set allowInsecureHttp for a trusted network)`,
    ]);
  }
  if (parsed.username || parsed.password) {
    throw new RetailCrmValidationError('Invalid RetailCRM url', ['url must not contain credentials']);
  }
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/api(\/v5)?$/, '');
  return `${parsed.origin}${path}`;
}

function validate<T>(
  schema: {
    safeParse(
      value: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  value: unknown,
  what: string,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RetailCrmValidationError(
    `Invalid ${what}`,
    result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
  );
}

type ListParams = { page?: number; limit?: PageLimit; filter?: Record<string, QueryValue> };

function pageQuery(params: ListParams | undefined) {
  if (params?.limit !== undefined && ![20, 50, 100].includes(params.limit)) {
    throw new RetailCrmValidationError('Invalid page limit', [`limit must be 20, 50 or 100 (got ${params.limit})`]);
  }
  return { page: params?.page, limit: params?.limit, filter: params?.filter };
}

function limitersFor(baseUrl: string, apiKey: string, rate: RateLimitOptions, clock: RetailCrmClock | undefined) {
  const limits = {
    perSecond: rate.perSecond ?? 10,
    telephonyPerSecond: rate.telephonyPerSecond ?? 40,
    windowMs: rate.windowMs ?? 1000,
    safetyMargin: rate.safetyMargin ?? DEFAULT_SAFETY_MARGIN,
  };
  // An injected clock means a test: keep its limiters private to this client.
  if (rate.scope === 'client' || clock) {
    const { windowMs, safetyMargin } = limits;
    return {
      limiter: createPacingLimiter({ limit: limits.perSecond, windowMs, safetyMargin, clock }),
      telephonyLimiter: createPacingLimiter({ limit: limits.telephonyPerSecond, windowMs, safetyMargin, clock }),
    };
  }
  return sharedKeyLimiters(baseUrl, apiKey, limits);
}

/**
 * The key travels in a header: surrounding whitespace is dropped (as fetch would), and a character fetch cannot put
 * in a header is refused here, never at send time (where it would look like a retryable network error).
 */
function checkApiKey(raw: string | undefined): string {
  const apiKey = typeof raw === 'string' ? raw.trim() : '';
  if (!apiKey) throw new RetailCrmValidationError('Missing RetailCRM apiKey', []);
  if (!/^[\x21-\x7e]+$/.test(apiKey)) {
    // The key itself is never echoed back.
    throw new RetailCrmValidationError('Invalid RetailCRM apiKey', ['apiKey must be printable ASCII without spaces']);
  }
  return apiKey;
}

/** A number is RetailCRM's internal id, a string an externalId (RetailCRM's own default is externalId). */
const lookupBy = (id: string | number, lookup?: CustomerLookupOptions) =>
  lookup?.by ?? (typeof id === 'number' ? 'id' : 'externalId');

const idSegment = (id: string | number) => encodeURIComponent(String(id));

/** Typed RetailCRM API v5 client. Cheap to create; the rate-limit budget is per API key (see `RateLimitOptions`). */
export function createRetailCrmClient(options: RetailCrmClientOptions): RetailCrmClient {
  const apiKey = checkApiKey(options.apiKey);
  const baseUrl = normaliseBaseUrl(options.url, options.allowInsecureHttp === true);
  const clock = options.clock ?? systemClock;
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? {});
  const limiters = rate && limitersFor(baseUrl, apiKey, rate, options.clock);
  const send = createTransport({
    apiRoot: `${baseUrl}/api`,
    apiKey,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: options.retry === false ? false : { ...defaultRetryOptions, ...options.retry },
    limiter: rate && (rate.limiter ?? limiters?.limiter),
    telephonyLimiter: rate && (rate.telephonyLimiter ?? limiters?.telephonyLimiter),
    logger: options.logger ?? silentLogger,
    clock,
    random: options.random ?? Math.random,
  });

  /** Every GET is idempotent, hence retried. */
  const get = <T>(path: string, schema: z.ZodType<T>, call?: RequestOptions, query?: Record<string, QueryValue>) =>
    send({ method: 'GET', path, query, schema, idempotent: true, signal: call?.signal });
  /**
   * `POST .../create` of one entity sent as the JSON form field `field` (+ `site`). Never replayed after a timeout
   * or a 5xx: RetailCRM does not de-duplicate creations, a replay makes a second one (a 503/429 is resent).
   */
  const createOne = <T>(
    path: string,
    field: string,
    value: unknown,
    schema: z.ZodType<T>,
    call?: { site?: string } & RequestOptions,
  ) =>
    send({
      method: 'POST',
      path,
      form: { [field]: value, site: call?.site },
      schema,
      idempotent: false,
      signal: call?.signal,
    });
  /** The few methods outside `/api/v5`. */
  const getUnversioned = <T>(path: string, schema: z.ZodType<T>, call?: RequestOptions) =>
    send({ method: 'GET', path, versioned: false, schema, idempotent: true, signal: call?.signal });

  /** A paginated list endpoint: one page (`list`) or every item of every page (`iterate`). */
  function listEndpoint<P extends ListParams, R extends { pagination: Pagination }, I>(
    path: string,
    schema: z.ZodType<R>,
    items: (response: R) => readonly I[],
  ) {
    const list = async (params?: P, call?: RequestOptions) => get(path, schema, call, pageQuery(params));
    const iterate = (params: P = {} as P, call?: RequestOptions) => paginate(params, (page) => list(page, call), items);
    return { list, iterate };
  }

  const users: RetailCrmClient['users'] = {
    ...listEndpoint<UsersListParams, UsersListResponse, RetailCrmUser>(
      '/users',
      usersListResponseSchema,
      (response) => response.users,
    ),
    get: (id, call) => get(`/users/${idSegment(id)}`, userResponseSchema, call),
    setStatus: async (id, status, call) => {
      if (!userStatusValues.includes(status)) {
        throw new RetailCrmValidationError('Invalid user status', [
          `status must be one of ${userStatusValues.join('|')}`,
        ]);
      }
      return send({
        method: 'POST',
        path: `/users/${idSegment(id)}/status`,
        form: { status },
        schema: successResponseSchema,
        idempotent: true,
        signal: call?.signal,
      });
    },
  };

  const customers: RetailCrmClient['customers'] = {
    ...listEndpoint<CustomersListParams, CustomersListResponse, RetailCrmCustomer>(
      '/customers',
      customersListResponseSchema,
      (response) => response.customers,
    ),
    get: (id, lookup) =>
      get(`/customers/${idSegment(id)}`, customerResponseSchema, lookup, {
        by: lookupBy(id, lookup),
        site: lookup?.site,
      }),
    create: (customer, createOptions) =>
      createOne('/customers/create', 'customer', customer, createResponseSchema, createOptions),
    edit: (id, customer, lookup) =>
      send({
        method: 'POST',
        path: `/customers/${idSegment(id)}/edit`,
        form: { customer, by: lookupBy(id, lookup), site: lookup?.site },
        schema: createResponseSchema,
        idempotent: true,
        signal: lookup?.signal,
      }),
    notes: {
      create: async (note, createOptions) =>
        createOne(
          '/customers/notes/create',
          'note',
          validate(customerNoteInputSchema, note, 'note'),
          customerNoteCreateResponseSchema,
          createOptions,
        ),
    },
  };

  const telephony: RetailCrmClient['telephony'] = {
    callEvent: async (event, eventOptions) => {
      const checked = validate(callEventSchema, event, 'call event');
      return send({
        method: 'POST',
        path: '/telephony/call/event',
        form: { event: checked },
        schema: callEventResponseSchema,
        idempotent: eventOptions?.retry === true,
        signal: eventOptions?.signal,
      });
    },
    uploadCalls: async (calls, call) => {
      // Validate everything first: a bad record must not leave half the batch uploaded.
      const checked = calls.map((call, index) => validate(callRecordSchema, call, `call #${index}`));
      const merged: UploadCallsResponse = { success: true, processedCallsCount: 0, duplicateCalls: [] };
      for (let start = 0; start < checked.length; start += MAX_CALLS_PER_UPLOAD) {
        const result = await send({
          method: 'POST',
          path: '/telephony/calls/upload',
          form: { calls: checked.slice(start, start + MAX_CALLS_PER_UPLOAD) },
          schema: uploadCallsResponseSchema,
          idempotent: true,
          signal: call?.signal,
        });
        merged.processedCallsCount += result.processedCallsCount;
        merged.duplicateCalls.push(...result.duplicateCalls);
      }
      return merged;
    },
    responsibleManager: (params, call) =>
      get('/telephony/manager', responsibleManagerResponseSchema, call, {
        phone: params.phone,
        details: params.details,
        ignoreStatus: params.ignoreStatus,
      }),
  };

  const client: RetailCrmClient = {
    url: baseUrl,
    credentials: (call) => getUnversioned('/credentials', credentialsResponseSchema, call),
    apiVersions: (call) => getUnversioned('/api-versions', apiVersionsResponseSchema, call),
    settings: { get: (call) => get('/settings', settingsResponseSchema, call) },
    sites: { list: (call) => get('/reference/sites', sitesResponseSchema, call) },
    users,
    userGroups: {
      list: async (params, call) => get('/user-groups', userGroupsResponseSchema, call, pageQuery(params)),
    },
    customers,
    tasks: {
      create: async (task, createOptions) =>
        createOne(
          '/tasks/create',
          'task',
          validate(taskInputSchema, task, 'task'),
          taskCreateResponseSchema,
          createOptions,
        ),
    },
    integrationModules: {
      get: (code, call) => get(`/integration-modules/${idSegment(code)}`, integrationModuleResponseSchema, call),
      edit: (module, call) =>
        send({
          method: 'POST',
          path: `/integration-modules/${idSegment(module.code)}/edit`,
          // The whole module as ONE JSON string field: an object here is "a non-scalar value".
          form: { integrationModule: module },
          schema: integrationModuleEditResponseSchema,
          idempotent: true,
          signal: call?.signal,
        }),
      updateScopes: async (code, scopes, call) => {
        if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'string' || !scope)) {
          throw new RetailCrmValidationError('Invalid scopes', ['scopes must be non-empty strings']);
        }
        return send({
          method: 'POST',
          path: `/integration-modules/${idSegment(code)}/update-scopes`,
          form: { requires: { scopes } },
          schema: integrationModuleUpdateScopesResponseSchema,
          // Asking for the same scopes twice grants the same scopes.
          idempotent: true,
          signal: call?.signal,
        });
      },
    },
    telephony,
    toJSON: () => ({ url: baseUrl }),
  };
  Object.defineProperties(client, {
    toString: { value: () => `RetailCrmClient(${baseUrl})`, enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: () => `RetailCrmClient(${baseUrl})`, enumerable: false },
  });
  return client;
}
