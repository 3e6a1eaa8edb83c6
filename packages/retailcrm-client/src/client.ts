import type { z } from 'zod';
import { defaultRetryOptions, type RetryOptions } from './backoff.js';
import { type RandomSource, type RetailCrmClock, systemClock } from './clock.js';
import type { QueryValue } from './encoding.js';
import { RetailCrmValidationError } from './errors.js';
import { sharedKeyLimiters } from './limiter-registry.js';
import { type RetailCrmLogger, silentLogger } from './logger.js';
import { paginate } from './pagination.js';
import { createSlidingWindowLimiter, type RateLimiter } from './rate-limiter.js';
import {
  type CreateResponse,
  createResponseSchema,
  type PageLimit,
  type Pagination,
  type SuccessResponse,
  successResponseSchema,
} from './schemas/common.js';
import { type CredentialsResponse, credentialsResponseSchema } from './schemas/credentials.js';
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
  integrationModuleEditResponseSchema,
  integrationModuleResponseSchema,
} from './schemas/integration-module.js';
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

export interface RateLimitOptions {
  /** Requests per second for everything except `/telephony/*` (default 10, RetailCRM's per-key limit). */
  perSecond?: number;
  /** Requests per second for `/telephony/*` (default 40). */
  telephonyPerSecond?: number;
  /** Window length (default 1000 ms). Raise it slightly to leave headroom for network jitter. */
  windowMs?: number;
  /**
   * `'key'` (default): every client of this process with the same account URL, API key and limits shares one
   * budget, so building a client per operation stays within RetailCRM's limit. `'client'`: private to this
   * client. A client with an injected `clock` always gets private limiters.
   */
  scope?: 'key' | 'client';
  /** Bring your own limiters (e.g. one shared across processes); overrides `scope`. */
  limiter?: RateLimiter;
  telephonyLimiter?: RateLimiter;
}

export interface RetailCrmClientOptions {
  /** Account URL, e.g. `https://demo.retailcrm.ru` (a trailing `/api/v5` is accepted). */
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per attempt (default 10 000 ms). */
  timeoutMs?: number;
  /** Backoff for idempotent requests on 503/429/5xx/network/timeout; `false` disables retries. */
  retry?: RetryOptions | false;
  /** Client-side limiter; `false` disables it. */
  rateLimit?: RateLimitOptions | false;
  logger?: RetailCrmLogger;
  clock?: RetailCrmClock;
  random?: RandomSource;
}

/** Per-call options accepted by every method. */
export interface RequestOptions {
  /** Cancels the call (waiting for a rate-limit slot, the request, the backoff); rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface RetailCrmClient {
  /** Account base URL (never the key). */
  readonly url: string;
  credentials(options?: RequestOptions): Promise<CredentialsResponse>;
  sites: { list(options?: RequestOptions): Promise<SitesResponse> };
  users: {
    list(params?: UsersListParams, options?: RequestOptions): Promise<UsersListResponse>;
    iterate(params?: UsersListParams, options?: RequestOptions): AsyncIterable<RetailCrmUser>;
    get(id: number, options?: RequestOptions): Promise<UserResponse>;
    setStatus(id: number, status: RetailCrmUserStatus, options?: RequestOptions): Promise<SuccessResponse>;
  };
  userGroups: { list(params?: UserGroupsListParams, options?: RequestOptions): Promise<UserGroupsResponse> };
  customers: {
    list(params?: CustomersListParams, options?: RequestOptions): Promise<CustomersListResponse>;
    iterate(params?: CustomersListParams, options?: RequestOptions): AsyncIterable<RetailCrmCustomer>;
    get(id: string | number, options?: CustomerLookupOptions & RequestOptions): Promise<CustomerResponse>;
    create(customer: CustomerInput, options?: { site?: string } & RequestOptions): Promise<CreateResponse>;
    edit(
      id: string | number,
      customer: CustomerInput,
      options?: CustomerLookupOptions & RequestOptions,
    ): Promise<CreateResponse>;
  };
  tasks: {
    /** Not retried on timeouts or 5xx: RetailCRM does not de-duplicate tasks, a replay makes a second one. */
    create(task: TaskInput, options?: { site?: string } & RequestOptions): Promise<TaskCreateResponse>;
  };
  integrationModules: {
    get(code: string, options?: RequestOptions): Promise<IntegrationModuleResponse>;
    edit(module: IntegrationModule, options?: RequestOptions): Promise<IntegrationModuleEditResponse>;
  };
  telephony: {
    /** Not retried unless `options.retry === true`: RetailCRM does not de-duplicate call events. */
    callEvent(event: CallEvent, options?: { retry?: boolean } & RequestOptions): Promise<CallEventResponse>;
    /** Split into requests of <= 50 calls; retried (RetailCRM de-duplicates by `externalId`); results merged. */
    uploadCalls(calls: readonly CallRecord[], options?: RequestOptions): Promise<UploadCallsResponse>;
    responsibleManager(params: ResponsibleManagerParams, options?: RequestOptions): Promise<ResponsibleManagerResponse>;
  };
  toJSON(): { url: string };
}

function normaliseBaseUrl(raw: string): string {
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
  const perSecond = rate.perSecond ?? 10;
  const telephonyPerSecond = rate.telephonyPerSecond ?? 40;
  const windowMs = rate.windowMs ?? 1000;
  // An injected clock means a test: keep its limiters private to this client.
  if (rate.scope === 'client' || clock) {
    return {
      limiter: createSlidingWindowLimiter({ limit: perSecond, windowMs, clock }),
      telephonyLimiter: createSlidingWindowLimiter({ limit: telephonyPerSecond, windowMs, clock }),
    };
  }
  return sharedKeyLimiters(baseUrl, apiKey, perSecond, telephonyPerSecond, windowMs);
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
  const baseUrl = normaliseBaseUrl(options.url);
  const clock = options.clock ?? systemClock;
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? {});
  const limiters = rate && limitersFor(baseUrl, apiKey, rate, options.clock);
  const send = createTransport({
    apiBase: `${baseUrl}/api/v5`,
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
      send({
        method: 'POST',
        path: '/customers/create',
        form: { customer, site: createOptions?.site },
        schema: createResponseSchema,
        // Creating twice makes two customers (or a duplicate-externalId error): never replayed.
        idempotent: false,
        signal: createOptions?.signal,
      }),
    edit: (id, customer, lookup) =>
      send({
        method: 'POST',
        path: `/customers/${idSegment(id)}/edit`,
        form: { customer, by: lookupBy(id, lookup), site: lookup?.site },
        schema: createResponseSchema,
        idempotent: true,
        signal: lookup?.signal,
      }),
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
    credentials: (call) => get('/credentials', credentialsResponseSchema, call),
    sites: { list: (call) => get('/reference/sites', sitesResponseSchema, call) },
    users,
    userGroups: {
      list: async (params, call) => get('/user-groups', userGroupsResponseSchema, call, pageQuery(params)),
    },
    customers,
    tasks: {
      create: async (task, createOptions) =>
        send({
          method: 'POST',
          path: '/tasks/create',
          form: { task: validate(taskInputSchema, task, 'task'), site: createOptions?.site },
          schema: taskCreateResponseSchema,
          idempotent: false,
          signal: createOptions?.signal,
        }),
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
