import { HttpResponse, http, type RequestHandler } from 'msw';
import { maskApiKey } from '../redact.js';
import type { RetailCrmCustomer } from '../schemas/customers.js';
import type { IntegrationModule } from '../schemas/integration-module.js';
import type { CustomerNoteInput } from '../schemas/notes.js';
import type { RetailCrmSite } from '../schemas/sites.js';
import type { TaskInput } from '../schemas/tasks.js';
import type { CallEvent, CallRecord } from '../schemas/telephony.js';
import type { RetailCrmUser, RetailCrmUserGroup } from '../schemas/users.js';
import {
  accountNotFoundResponse,
  entityErrors,
  errorResponse,
  inputErrors,
  missingParameter,
  nonScalar,
  notFound,
  rateLimitedResponse,
} from './envelopes.js';
import { digits, flag, readFilter, samePhone, toRecord } from './form.js';

/** Account URL the fake answers on when {@link FakeRetailCrmOptions.url} is not given. */
export const FAKE_RETAILCRM_URL = 'https://demo.retailcrm.ru';
/** The API key the fake accepts when {@link FakeRetailCrmOptions.apiKey} is not given (not a real key). */
export const FAKE_RETAILCRM_API_KEY = 'fake-retailcrm-api-key-0000';

/** One request as the fake saw it; the API key is masked. */
export interface RecordedRequest {
  /** HTTP method, upper case. */
  method: string;
  /**
   * Path after `/api/v5`, e.g. `/telephony/call/event`; for the unversioned methods the whole path from `/api`
   * (`/api/credentials`, `/api/api-versions`).
   */
  path: string;
  /** Query parameters (a repeated one as a list; an `apiKey` parameter masked). */
  query: Record<string, string | string[]>;
  /** Form fields of a POST (JSON-string fields left as strings). */
  form?: Record<string, string | string[]>;
  /** Masked key (`***abcd`), empty when none was sent. */
  apiKey: string;
  /** Fake clock time when the request arrived. */
  at: number;
  /** HTTP status the fake answered with (0 while the answer is pending). */
  status: number;
}

/** A call event the fake accepted through `telephony/call/event`. */
export interface ReceivedCallEvent extends CallEvent {
  /** Fake clock time when the event was accepted. */
  at: number;
}

/** A note the fake accepted through `customers/notes/create`. */
export interface CreatedCustomerNote extends CustomerNoteInput {
  /** Id the fake answered with: 1, 2, … in creation order. */
  id: number;
  /** `site` form field of the request, when one was sent. */
  site?: string;
  /** Fake clock time when the note was created. */
  at: number;
}

/** A task the fake accepted through `tasks/create`. */
export interface CreatedTask extends TaskInput {
  /** Id the fake answered with: 1, 2, … in creation order. */
  id: number;
  /** `site` form field of the request, when one was sent. */
  site?: string;
  /** Fake clock time when the task was created. */
  at: number;
}

/** What the fake account holds now; mutable, so a test may seed or inspect it directly. */
export interface FakeRetailCrmState {
  /** Users, seeded from {@link FakeRetailCrmOptions.users} (fields left out filled with defaults). */
  users: RetailCrmUser[];
  /** User groups served by `user-groups`. */
  userGroups: RetailCrmUserGroup[];
  /** Customers, seeded and then created or edited through the API. */
  customers: RetailCrmCustomer[];
  /** Sites keyed by code. */
  sites: Record<string, RetailCrmSite>;
  /** Integration modules keyed by code: the seed, as `integration-modules/{code}/edit` left it. */
  integrationModules: Map<string, IntegrationModule>;
  /** Call events accepted through `telephony/call/event`, in order. */
  callEvents: ReceivedCallEvent[];
  /** Accepted calls (duplicates by externalId are not stored twice). */
  uploadedCalls: CallRecord[];
  /** Tasks created through `tasks/create`, in order. */
  tasks: CreatedTask[];
  /** Notes created through `customers/notes/create`, in order. */
  customerNotes: CreatedCustomerNote[];
  /** Scopes granted per module code by `update-scopes` (each call issues a new accepted key). */
  grantedScopes: Map<string, string[]>;
  /** Account settings served by `GET /settings` (`timezone.value` is the account's time zone). */
  settings: Record<string, unknown>;
  /** Every request that reached the fake, rejected ones included, in arrival order. */
  requests: RecordedRequest[];
}

/**
 * A scripted answer for the next matching request(s): an error status, a redirect (`status: 301` with a
 * `Location` header), an HTML page (a string body), or, with `delayMs`, a slow answer (without `status` the
 * normal answer, only late).
 */
export interface FakeFailure {
  /** Omit together with a `delayMs` to delay the normal answer. */
  status?: number;
  /** Wait this long before answering (on the fake's clock when it can sleep, else real time). */
  delayMs?: number;
  /** JSON value, or a string sent as-is (e.g. HTML). Default: a RetailCRM error envelope. */
  body?: unknown;
  /** Extra response headers (e.g. `Location`, `Retry-After`). */
  headers?: Record<string, string>;
  /** Only requests matching these (path after `/api/v5`). */
  method?: string;
  /** Exact path, or a pattern tested against it; omit to match any path. */
  path?: string | RegExp;
  /** How many matching requests fail (default 1). */
  times?: number;
}

/** Seed data and behaviour of {@link createFakeRetailCrm}; {@link FakeRetailCrm.reset} returns to this seed. */
export interface FakeRetailCrmOptions {
  /** Default `https://demo.retailcrm.ru`. */
  url?: string;
  /** The only accepted key. Default {@link FAKE_RETAILCRM_API_KEY}. */
  apiKey?: string;
  /** Seed users; fields left out get defaults (`User<id>`, active, online, manager, status `free`). */
  users?: (Partial<RetailCrmUser> & {
    /** RetailCRM user id (what `performerId`, `managerId` and call-event `userIds` are checked against). */
    id: number;
  })[];
  /** Seed user groups (default none). */
  userGroups?: RetailCrmUserGroup[];
  /** Seed customers (default none); site `main` unless given. */
  customers?: (Partial<RetailCrmCustomer> & {
    /** Default: one more than the highest id seeded before it (1 for the first). */
    id?: number;
  })[];
  /** Default: one site `main`. */
  sites?: RetailCrmSite[];
  /** Seed integration modules (default none). */
  integrationModules?: IntegrationModule[];
  /** Methods listed by `/api/credentials`. */
  credentials?: string[];
  /** Scopes listed by `/api/credentials` (default: the telephony module's read/write scopes). */
  scopes?: string[];
  /** The account's time zone served by `GET /settings` (default `Europe/Moscow`). */
  timeZone?: string;
  /**
   * RetailCRM's per-key limit: over `perSecond` (10) requests, or `telephonyPerSecond` (40) to `/telephony/*`,
   * in any sliding window of `windowMs` (1000) counted at arrival, the request gets a 503 with nginx's page and
   * is not processed. On by default, like the real service; `false` turns it off.
   */
  rateLimit?:
    | {
        /** Requests per window to any path but `/telephony/*` (default 10). */
        perSecond?: number;
        /** Requests per window to `/telephony/*` (default 40). */
        telephonyPerSecond?: number;
        /** Length of the sliding window in ms (default 1000). */
        windowMs?: number;
      }
    | false;
  /** Serve `integrationModule` as a JSON string (RetailCRM does so on some accounts). */
  integrationModuleAsJsonString?: boolean;
  /** Time source for `at` stamps and the rate limit (share a ManualClock with the client). */
  clock?: {
    /** Current time in ms. */
    now(): number;
    /** Waits `ms` on this clock (for `delayMs`); without it the fake waits in real time. */
    sleep?(ms: number): Promise<void>;
  };
}

/** A fake RetailCRM account; create it with {@link createFakeRetailCrm}. */
export interface FakeRetailCrm {
  /** Account URL the handlers answer on (no trailing slash). */
  readonly url: string;
  /** The API key the fake accepts (keys issued by `update-scopes` are accepted too). */
  readonly apiKey: string;
  /** Pass to `setupServer(...fake.handlers)` or `server.use(...fake.handlers)`. */
  readonly handlers: RequestHandler[];
  /** The account's current data and the requests it saw. */
  readonly state: FakeRetailCrmState;
  /**
   * Answers one request as the account would (what the msw handler and `startFakeRetailCrmServer` call).
   * `arrivedAt` is when it reached the server (default now): the rate limit counts arrivals.
   */
  handle(request: Request, arrivedAt?: number): Promise<Response>;
  /** Back to the seed: clears received events, uploads, requests, injected failures. */
  reset(): void;
  /** Make the next matching request(s) fail with the given status/body, or answer late (`delayMs`). */
  failNext(failure: FakeFailure): void;
  /** The next matching request(s) get a redirect (default 301) to `location`, like a moved account. */
  redirectNext(
    location: string,
    options?: Omit<FakeFailure, 'status' | 'headers' | 'body'> & { status?: number },
  ): void;
  /** `false` makes every request answer like a non-existent account (405 + HTML). */
  setAccountExists(exists: boolean): void;
  /** Requests filtered by path (after `/api/v5`) and optional method. */
  requestsTo(path: string | RegExp, method?: string): RecordedRequest[];
}

const defaultCredentials = [
  '/api/credentials',
  '/api/reference/sites',
  '/api/users',
  '/api/user-groups',
  '/api/customers',
  '/api/customers/create',
  '/api/integration-modules/{code}',
  '/api/integration-modules/{code}/edit',
  '/api/telephony/call/event',
  '/api/telephony/calls/upload',
  '/api/telephony/manager',
  '/api/tasks/create',
  '/api/settings',
  '/api/customers/notes/create',
  '/api/integration-modules/{code}/update-scopes',
];

const defaultScopes = ['integration_read', 'integration_write', 'telephony_read', 'telephony_write', 'user_read'];

const hangupStatuses = ['answered', 'busy', 'cancel', 'failed', 'no answered'];
const callResults = ['failed', 'answered', 'busy', 'no answer', 'not allowed', 'unknown'];
const userStatuses = ['free', 'busy', 'dinner', 'break'];
const dateTime = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function seedUser(user: Partial<RetailCrmUser> & { id: number }): RetailCrmUser {
  return {
    firstName: `User${user.id}`,
    lastName: '',
    active: true,
    online: true,
    isAdmin: false,
    isManager: true,
    status: 'free',
    email: `user${user.id}@example.com`,
    createdAt: '2025-01-01 00:00:00',
    groups: [],
    ...user,
  };
}

const clone = <T>(value: T): T => structuredClone(value);

function isSvgLogo(logo: unknown): boolean {
  if (typeof logo !== 'string' || !logo) return false;
  if (/^data:image\/svg\+xml[;,]/i.test(logo)) return true;
  try {
    return /\.svg$/i.test(new URL(logo).pathname);
  } catch {
    return false;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

const blank = (value: unknown) => typeof value !== 'string' || value.trim() === '';

function mergeModule(existing: IntegrationModule | undefined, patch: Record<string, unknown>): IntegrationModule {
  const base = (existing ?? {}) as Record<string, unknown>;
  const baseIntegrations = (base.integrations ?? {}) as Record<string, unknown>;
  const patchIntegrations = (patch.integrations ?? {}) as Record<string, unknown>;
  const integrations: Record<string, unknown> = { ...baseIntegrations };
  for (const [name, value] of Object.entries(patchIntegrations)) {
    integrations[name] = { ...((baseIntegrations[name] ?? {}) as object), ...((value ?? {}) as object) };
  }
  return { ...base, ...patch, integrations } as IntegrationModule;
}

/**
 * A stateful RetailCRM account as msw handlers: API-key check, RetailCRM error envelopes, 503 over a
 * per-key rate limit, the registration validation errors, de-duplication of uploaded calls by externalId.
 */
export function createFakeRetailCrm(options: FakeRetailCrmOptions = {}): FakeRetailCrm {
  const url = (options.url ?? FAKE_RETAILCRM_URL).replace(/\/+$/, '');
  const apiKey = options.apiKey ?? FAKE_RETAILCRM_API_KEY;
  const clock = options.clock ?? { now: () => Date.now() };
  const sleep = (ms: number) =>
    clock.sleep ? clock.sleep(ms) : new Promise<void>((resolve) => globalThis.setTimeout(resolve, ms));
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? {});
  const windowMs = rate?.windowMs ?? 1000;

  const state: FakeRetailCrmState = {
    users: [],
    userGroups: [],
    customers: [],
    sites: {},
    integrationModules: new Map(),
    callEvents: [],
    uploadedCalls: [],
    tasks: [],
    customerNotes: [],
    grantedScopes: new Map(),
    settings: {},
    requests: [],
  };
  const issuedKeys = new Set<string>();
  let failures: FakeFailure[] = [];
  let accountExists = true;
  const accepted = new Map<string, number[]>();

  function reset() {
    state.users.splice(0, state.users.length, ...(options.users ?? []).map((user) => seedUser(clone(user))));
    state.userGroups.splice(0, state.userGroups.length, ...clone(options.userGroups ?? []));
    let nextId = 1;
    state.customers.splice(
      0,
      state.customers.length,
      ...(options.customers ?? []).map((customer) => {
        const id = customer.id ?? nextId;
        nextId = Math.max(nextId, id + 1);
        return { createdAt: '2025-01-01 00:00:00', site: 'main', ...clone(customer), id } as RetailCrmCustomer;
      }),
    );
    for (const key of Object.keys(state.sites)) delete state.sites[key];
    for (const site of options.sites ?? [{ code: 'main', name: 'Main site', url: 'https://shop.example.com' }]) {
      state.sites[site.code] = clone(site);
    }
    state.integrationModules.clear();
    for (const module of options.integrationModules ?? []) state.integrationModules.set(module.code, clone(module));
    state.callEvents.length = 0;
    state.uploadedCalls.length = 0;
    state.tasks.length = 0;
    state.customerNotes.length = 0;
    state.grantedScopes.clear();
    for (const key of Object.keys(state.settings)) delete state.settings[key];
    Object.assign(state.settings, {
      default_currency: { value: 'RUB', updated_at: '2025-01-01 00:00:00' },
      system_language: { value: 'RU', updated_at: '2025-01-01 00:00:00' },
      timezone: { value: options.timeZone ?? 'Europe/Moscow', updated_at: '2025-01-01 00:00:00' },
    });
    issuedKeys.clear();
    state.requests.length = 0;
    failures = [];
    accountExists = true;
    accepted.clear();
  }
  reset();

  const activeTelephonyCodes = () => {
    const codes = new Map<string, string>();
    for (const module of state.integrationModules.values()) {
      if (module.active === false) continue;
      for (const item of module.integrations?.telephony?.additionalCodes ?? []) {
        codes.set(String(item.code), String(item.userId));
      }
    }
    return codes;
  };

  /** Sliding window of accepted arrivals per key (rejected ones are not processed, so they do not count). */
  function overLimit(key: string, telephony: boolean, now: number): boolean {
    if (!rate) return false;
    const limit = telephony ? (rate.telephonyPerSecond ?? 40) : (rate.perSecond ?? 10);
    const bucket = `${telephony ? 't' : 'g'}:${key}`;
    const stamps = (accepted.get(bucket) ?? []).filter((stamp) => stamp > now - windowMs);
    if (stamps.length >= limit) {
      accepted.set(bucket, stamps);
      return true;
    }
    stamps.push(now);
    accepted.set(bucket, stamps);
    return false;
  }

  function takeFailure(method: string, path: string): FakeFailure | undefined {
    const index = failures.findIndex(
      (failure) =>
        (!failure.method || failure.method.toUpperCase() === method) &&
        (failure.path === undefined ||
          (typeof failure.path === 'string' ? failure.path === path : failure.path.test(path))),
    );
    if (index < 0) return undefined;
    const failure = failures[index]!;
    const left = (failure.times ?? 1) - 1;
    if (left <= 0) failures.splice(index, 1);
    else failures[index] = { ...failure, times: left };
    return failure;
  }

  function failureResponse(failure: FakeFailure & { status: number }): Response {
    if (failure.body === undefined) return errorResponse(failure.status, `Injected failure ${failure.status}`);
    if (typeof failure.body === 'string') {
      return new HttpResponse(failure.body, {
        status: failure.status,
        headers: { 'Content-Type': 'text/html', ...failure.headers },
      });
    }
    return HttpResponse.json(failure.body as Record<string, unknown>, {
      status: failure.status,
      headers: failure.headers,
    });
  }

  /** A JSON-string form field, or the RetailCRM error RetailCRM gives when it is sent otherwise. */
  function jsonField(
    form: URLSearchParams | undefined,
    jsonBody: unknown,
    name: string,
  ): { value: unknown } | { error: Response } {
    if (jsonBody !== undefined) {
      const field = (jsonBody as Record<string, unknown> | null)?.[name];
      if (field !== undefined && typeof field === 'object') return { error: nonScalar(name) };
      if (typeof field === 'string') form = new URLSearchParams({ [name]: field });
    }
    if (!form) return { error: missingParameter(name) };
    for (const key of form.keys()) if (key.startsWith(`${name}[`)) return { error: nonScalar(name) };
    const raw = form.get(name);
    if (raw === null || raw === '') return { error: missingParameter(name) };
    try {
      return { value: JSON.parse(raw) as unknown };
    } catch {
      return { error: inputErrors({ [name]: 'This value should be valid JSON.' }) };
    }
  }

  /** A JSON-string form field that must hold one object (an entity to create or edit). */
  function jsonObjectField(
    form: URLSearchParams | undefined,
    jsonBody: unknown,
    name: string,
  ): { value: Record<string, unknown> } | { error: Response } {
    const field = jsonField(form, jsonBody, name);
    if ('error' in field) return field;
    const value = field.value;
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return { error: inputErrors({ [name]: 'Invalid value.' }) };
    return { value: value as Record<string, unknown> };
  }

  /** One page of a list endpoint as RetailCRM answers it: `{success, pagination, [key]: items}`. */
  function listResponse<T>(key: string, items: T[], query: URLSearchParams): Response {
    const limit = Number(query.get('limit') ?? 20);
    const current = Number(query.get('page') ?? 1);
    const errors: Record<string, string> = {};
    if (![20, 50, 100].includes(limit)) errors.limit = 'The value you selected is not a valid choice.';
    if (!Number.isInteger(current) || current < 1) errors.page = 'This value should be greater than or equal to 1.';
    if (Object.keys(errors).length) return inputErrors(errors);
    return HttpResponse.json({
      success: true,
      pagination: {
        limit,
        totalCount: items.length,
        currentPage: current,
        totalPageCount: Math.max(1, Math.ceil(items.length / limit)),
      },
      [key]: items.slice((current - 1) * limit, current * limit),
    });
  }

  function findCustomer(id: string, by: string | null): RetailCrmCustomer | undefined {
    return by === 'id'
      ? state.customers.find((customer) => String(customer.id) === id)
      : state.customers.find((customer) => customer.externalId === id);
  }

  function customerMatches(customer: RetailCrmCustomer, filter: Record<string, string | string[]>): boolean {
    const one = (key: string) => (typeof filter[key] === 'string' ? (filter[key] as string) : undefined);
    const many = (key: string) => (Array.isArray(filter[key]) ? (filter[key] as string[]) : undefined);
    const name = one('name');
    if (name) {
      const needle = name.toLowerCase();
      const text = [customer.firstName, customer.lastName, customer.patronymic, customer.email]
        .filter(Boolean)
        .join(' ')
        .toLowerCase();
      const phoneHit =
        digits(name).length >= 3 &&
        (customer.phones ?? []).some((phone) => digits(phone.number).includes(digits(name)));
      if (!text.includes(needle) && !phoneHit) return false;
    }
    if (one('email') && customer.email !== one('email')) return false;
    if (many('ids') && !many('ids')!.includes(String(customer.id))) return false;
    if (many('externalIds') && !many('externalIds')!.includes(customer.externalId ?? '')) return false;
    if (many('managers') && !many('managers')!.includes(String(customer.managerId ?? ''))) return false;
    if (many('sites') && !many('sites')!.includes(customer.site ?? '')) return false;
    return true;
  }

  function userMatches(user: RetailCrmUser, filter: Record<string, string | string[]>): boolean {
    for (const field of ['online', 'active', 'isManager', 'isAdmin'] as const) {
      const wanted = flag(filter[field]);
      if (wanted !== undefined && Boolean(user[field]) !== wanted) return false;
    }
    if (typeof filter.email === 'string' && user.email !== filter.email) return false;
    if (typeof filter.status === 'string' && user.status !== filter.status) return false;
    if (Array.isArray(filter.groups)) {
      const codes = (user.groups ?? []).map((group) => group.code);
      if (!filter.groups.some((code) => codes.includes(code))) return false;
    }
    return true;
  }

  function validateCallEvent(event: Record<string, unknown>): Record<string, string> {
    const errors: Record<string, string> = {};
    if (blank(event.phone)) errors.phone = 'This value should not be blank.';
    if (!['in', 'out', 'hangup'].includes(event.type as string))
      errors.type = 'The value you selected is not a valid choice.';
    if (event.hangupStatus !== undefined && !hangupStatuses.includes(event.hangupStatus as string)) {
      errors.hangupStatus = 'The value you selected is not a valid choice.';
    }
    if (event.codes !== undefined && !Array.isArray(event.codes)) errors.codes = 'This value should be of type array.';
    if (event.userIds !== undefined && !Array.isArray(event.userIds))
      errors.userIds = 'This value should be of type array.';
    return errors;
  }

  function validateCall(call: Record<string, unknown>, index: number, errors: string[]) {
    if (typeof call.date !== 'string' || !dateTime.test(call.date))
      errors.push(`calls[${index}].date: Invalid date format.`);
    if (!['in', 'out'].includes(call.type as string))
      errors.push(`calls[${index}].type: The value you selected is not a valid choice.`);
    if (blank(call.phone)) errors.push(`calls[${index}].phone: This value should not be blank.`);
    if (!callResults.includes(call.result as string)) {
      errors.push(`calls[${index}].result: The value you selected is not a valid choice.`);
    }
  }

  function validateTask(task: Record<string, unknown>): Record<string, string> {
    const errors: Record<string, string> = {};
    if (blank(task.text)) errors.text = 'This value should not be blank.';
    const performerId = task.performerId;
    if (performerId === undefined) errors.performerId = 'This value should not be blank.';
    else if (!state.users.some((user) => user.id === Number(performerId))) errors.performerId = 'User not found.';
    if (task.datetime !== undefined && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(String(task.datetime))) {
      errors.datetime = 'Invalid date format.';
    }
    return errors;
  }

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    form: URLSearchParams | undefined,
    jsonBody: unknown,
  ): Promise<Response> {
    // Path parameter of the first matching pattern (RetailCRM ids and codes never contain '/').
    const param = (pattern: RegExp, verb: string) => {
      const found = method === verb ? pattern.exec(path) : null;
      return found ? decodeURIComponent(found[1]!) : undefined;
    };
    const userId = param(/^\/users\/(\d+)$/, 'GET');
    const statusUserId = param(/^\/users\/(\d+)\/status$/, 'POST');
    const editCustomerId = param(/^\/customers\/([^/]+)\/edit$/, 'POST');
    const getCustomerId = param(/^\/customers\/([^/]+)$/, 'GET');
    const getModuleCode = param(/^\/integration-modules\/([^/]+)$/, 'GET');
    const editModuleCode = param(/^\/integration-modules\/([^/]+)\/edit$/, 'POST');
    const scopesModuleCode = param(/^\/integration-modules\/([^/]+)\/update-scopes$/, 'POST');
    // Unversioned, as the official clients call it; `/api/v5/credentials` is not a method.
    if (method === 'GET' && path === '/api/credentials') {
      return HttpResponse.json({
        success: true,
        credentials: options.credentials ?? defaultCredentials,
        scopes: options.scopes ?? defaultScopes,
        siteAccess: 'access_full',
        sitesAvailable: Object.keys(state.sites),
      });
    }
    if (method === 'GET' && path === '/api/api-versions') {
      return HttpResponse.json({ success: true, versions: ['3.0', '4.0', '5.0'] });
    }
    if (method === 'GET' && path === '/settings') {
      return HttpResponse.json({ success: true, settings: state.settings });
    }
    if (method === 'POST' && path === '/customers/notes/create') {
      const field = jsonObjectField(form, jsonBody, 'note');
      if ('error' in field) return field.error;
      const note = field.value;
      const ref = (note.customer ?? {}) as { id?: unknown; externalId?: unknown };
      const errors: Record<string, string> = {};
      if (blank(note.text)) errors.text = 'This value should not be blank.';
      const customer =
        ref.id !== undefined
          ? findCustomer(String(ref.id), 'id')
          : ref.externalId !== undefined
            ? findCustomer(String(ref.externalId), 'externalId')
            : undefined;
      if (!customer) errors.customer = 'Customer not found.';
      if (note.managerId !== undefined && !state.users.some((user) => user.id === Number(note.managerId))) {
        errors.managerId = 'User not found.';
      }
      if (Object.keys(errors).length) return inputErrors(errors);
      const site = form?.get('site');
      const id = state.customerNotes.length + 1;
      state.customerNotes.push({
        ...(note as unknown as CustomerNoteInput),
        id,
        ...(site ? { site } : {}),
        at: clock.now(),
      });
      return HttpResponse.json({ success: true, id }, { status: 201 });
    }
    if (scopesModuleCode !== undefined) {
      const field = jsonField(form, jsonBody, 'requires');
      if ('error' in field) return field.error;
      const scopes = (field.value as { scopes?: unknown } | null)?.scopes;
      if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'string')) {
        return inputErrors({ 'requires.scopes': 'This value should be of type array.' });
      }
      if (!state.integrationModules.has(scopesModuleCode)) return notFound();
      state.grantedScopes.set(scopesModuleCode, scopes as string[]);
      // A new key carrying the scopes; the fake accepts it from now on (until reset).
      const issued = `fake-retailcrm-scoped-key-${issuedKeys.size + 1}`;
      issuedKeys.add(issued);
      return HttpResponse.json({ success: true, apiKey: issued });
    }
    if (method === 'GET' && path === '/reference/sites') {
      // PHP: an empty map is serialised as [].
      return HttpResponse.json({ success: true, sites: Object.keys(state.sites).length ? state.sites : [] });
    }
    if (method === 'GET' && path === '/users') {
      const filter = readFilter(query);
      return listResponse(
        'users',
        state.users.filter((user) => userMatches(user, filter)),
        query,
      );
    }
    if (userId !== undefined) {
      const user = state.users.find((candidate) => candidate.id === Number(userId));
      return user ? HttpResponse.json({ success: true, user }) : notFound();
    }
    if (statusUserId !== undefined) {
      const user = state.users.find((candidate) => candidate.id === Number(statusUserId));
      if (!user) return notFound();
      const status = form?.get('status');
      if (!status) return missingParameter('status');
      if (!userStatuses.includes(status))
        return inputErrors({ status: 'The value you selected is not a valid choice.' });
      user.status = status;
      return HttpResponse.json({ success: true });
    }
    if (method === 'GET' && path === '/user-groups') {
      return listResponse('groups', state.userGroups, query);
    }
    if (method === 'GET' && path === '/customers') {
      const filter = readFilter(query);
      return listResponse(
        'customers',
        state.customers.filter((customer) => customerMatches(customer, filter)),
        query,
      );
    }
    if (method === 'POST' && path === '/customers/create') {
      const field = jsonObjectField(form, jsonBody, 'customer');
      if ('error' in field) return field.error;
      const input = field.value;
      if (typeof input.externalId === 'string' && findCustomer(input.externalId, 'externalId')) {
        return entityErrors({ externalId: 'Customer with the same externalId already exists.' });
      }
      const id = state.customers.reduce((max, customer) => Math.max(max, customer.id), 0) + 1;
      const site = form?.get('site') ?? Object.keys(state.sites)[0];
      state.customers.push({ createdAt: '2025-01-01 00:00:00', site, ...input, id } as RetailCrmCustomer);
      return HttpResponse.json({ success: true, id }, { status: 201 });
    }
    if (editCustomerId !== undefined) {
      const field = jsonField(form, jsonBody, 'customer');
      if ('error' in field) return field.error;
      const customer = findCustomer(editCustomerId, form?.get('by') ?? 'externalId');
      if (!customer) return notFound();
      const { id: _ignored, ...patch } = field.value as Record<string, unknown>;
      Object.assign(customer, patch);
      return HttpResponse.json({ success: true, id: customer.id });
    }
    if (getCustomerId !== undefined) {
      const customer = findCustomer(getCustomerId, query.get('by') ?? 'externalId');
      return customer ? HttpResponse.json({ success: true, customer }) : notFound();
    }
    if (getModuleCode !== undefined) {
      const module = state.integrationModules.get(getModuleCode);
      if (!module) return notFound();
      return HttpResponse.json({
        success: true,
        integrationModule: options.integrationModuleAsJsonString ? JSON.stringify(module) : module,
      });
    }
    if (editModuleCode !== undefined) {
      const code = editModuleCode;
      const field = jsonField(form, jsonBody, 'integrationModule');
      if ('error' in field) return field.error;
      const patch = field.value as Record<string, unknown>;
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
        return inputErrors({ integrationModule: 'Invalid value.' });
      }
      const existing = state.integrationModules.get(code);
      const merged = mergeModule(existing, { ...patch, code });
      const errors: Record<string, string> = {};
      if (!isSvgLogo(merged.logo)) errors.logo = 'Logo image must be svg';
      if (blank(merged.baseUrl)) errors.baseUrl = 'This value should not be blank';
      if (blank(merged.name)) errors.name = 'This value should not be blank';
      if (blank(merged.clientId)) errors.clientId = 'This value should not be blank';
      if (Object.keys(errors).length) return entityErrors(errors);
      state.integrationModules.set(code, merged);
      return HttpResponse.json({ success: true, info: [] }, { status: existing ? 200 : 201 });
    }
    if (method === 'POST' && path === '/telephony/call/event') {
      const field = jsonObjectField(form, jsonBody, 'event');
      if ('error' in field) return field.error;
      const event = field.value;
      const errors = validateCallEvent(event);
      if (Object.keys(errors).length) return inputErrors(errors);
      state.callEvents.push({ ...(event as unknown as CallEvent), at: clock.now() });
      const known = activeTelephonyCodes();
      const notExistCodes = ((event.codes as unknown[] | undefined) ?? [])
        .map(String)
        .filter((code) => !known.has(code));
      const notExistUsers = ((event.userIds as unknown[] | undefined) ?? [])
        .map(Number)
        .filter((id) => !state.users.some((user) => user.id === id));
      return HttpResponse.json({
        success: true,
        ...(notExistCodes.length ? { notExistCodes } : {}),
        ...(notExistUsers.length ? { notExistUsers } : {}),
      });
    }
    if (method === 'POST' && path === '/tasks/create') {
      const field = jsonObjectField(form, jsonBody, 'task');
      if ('error' in field) return field.error;
      const task = field.value;
      const errors = validateTask(task);
      if (Object.keys(errors).length) return inputErrors(errors);
      const site = form?.get('site');
      const id = state.tasks.length + 1;
      state.tasks.push({ ...(task as unknown as TaskInput), id, ...(site ? { site } : {}), at: clock.now() });
      return HttpResponse.json({ success: true, id }, { status: 201 });
    }
    if (method === 'POST' && path === '/telephony/calls/upload') {
      const field = jsonField(form, jsonBody, 'calls');
      if ('error' in field) return field.error;
      const calls = field.value;
      if (!Array.isArray(calls)) return inputErrors({ calls: 'This value should be of type array.' });
      if (calls.length > 50) return inputErrors({ calls: 'This collection should contain 50 elements or less.' });
      const errors: string[] = [];
      calls.forEach((call, index) => {
        validateCall(call as Record<string, unknown>, index, errors);
      });
      if (errors.length) return inputErrors(errors);
      const seen = new Set(state.uploadedCalls.map((call) => call.externalId).filter(Boolean));
      const duplicateCalls: string[] = [];
      let processedCallsCount = 0;
      for (const call of calls as CallRecord[]) {
        if (call.externalId && seen.has(call.externalId)) {
          duplicateCalls.push(call.externalId);
          continue;
        }
        if (call.externalId) seen.add(call.externalId);
        state.uploadedCalls.push(call);
        processedCallsCount++;
      }
      return HttpResponse.json({ success: true, processedCallsCount, duplicateCalls });
    }
    if (method === 'GET' && path === '/telephony/manager') {
      const phone = query.get('phone');
      if (!phone) return missingParameter('phone');
      const customer = state.customers.find((candidate) =>
        (candidate.phones ?? []).some((item) => samePhone(item.number, phone)),
      );
      const links: Record<string, string> = { newCustomerLink: `${url}/customers/add?phone=${digits(phone)}` };
      if (!customer) return HttpResponse.json({ success: true, links });
      links.newOrderLink = `${url}/orders/add?customerId=${customer.id}`;
      links.customerOrdersLink = `${url}/customers/${customer.id}#t-orders`;
      const user = state.users.find((candidate) => candidate.id === customer.managerId);
      const available =
        user && user.active !== false && (flag(query.get('ignoreStatus') ?? undefined) || user.status === 'free');
      const code = user ? [...activeTelephonyCodes()].find(([, userId]) => userId === String(user.id))?.[0] : undefined;
      return HttpResponse.json({
        success: true,
        ...(available && user
          ? {
              manager: {
                id: user.id,
                firstName: user.firstName,
                lastName: user.lastName,
                email: user.email,
                ...(flag(query.get('details') ?? undefined) && code ? { code } : {}),
              },
            }
          : {}),
        customer: {
          id: customer.id,
          externalId: customer.externalId,
          firstName: customer.firstName,
          lastName: customer.lastName,
          email: customer.email,
          phones: customer.phones,
        },
        links,
      });
    }
    return errorResponse(404, 'API method not found');
  }

  const apiPrefix = `${new URL(url).pathname.replace(/\/$/, '')}/api`;

  async function handle(request: Request, arrivedAt = clock.now()): Promise<Response> {
    const requestUrl = new URL(request.url);
    const method = request.method.toUpperCase();
    const afterApi = requestUrl.pathname.slice(apiPrefix.length);
    // `/api/v5/x` is recorded as `/x`; the unversioned methods keep their whole path (`/api/credentials`).
    const path = afterApi.startsWith('/v5/') ? afterApi.slice('/v5'.length) : `/api${afterApi}`;
    const key = request.headers.get('x-api-key') ?? requestUrl.searchParams.get('apiKey') ?? '';
    const maskedQuery = new URLSearchParams(requestUrl.searchParams);
    if (maskedQuery.has('apiKey')) maskedQuery.set('apiKey', maskApiKey(maskedQuery.get('apiKey')));

    let form: URLSearchParams | undefined;
    let jsonBody: unknown;
    if (method === 'POST') {
      const type = request.headers.get('content-type') ?? '';
      const text = await request.text();
      if (type.includes('application/json')) {
        try {
          jsonBody = JSON.parse(text) as unknown;
        } catch {
          jsonBody = null;
        }
      } else {
        form = new URLSearchParams(text);
      }
    }
    const record: RecordedRequest = {
      method,
      path,
      query: toRecord(maskedQuery),
      ...(form ? { form: toRecord(form) } : {}),
      apiKey: maskApiKey(key),
      at: arrivedAt,
      status: 0,
    };
    state.requests.push(record);

    const respond = (response: Response) => {
      record.status = response.status;
      return response;
    };
    if (!accountExists) return respond(accountNotFoundResponse());
    if (overLimit(key, path.startsWith('/telephony/'), arrivedAt)) return respond(rateLimitedResponse());
    if (!key) return respond(errorResponse(403, '"apiKey" is missing.'));
    if (key !== apiKey && !issuedKeys.has(key)) return respond(errorResponse(403, 'Wrong "apiKey" value.'));
    // A malformed escape (`%E0`) names nothing: RetailCRM's 404, never a handler crash.
    if (!isDecodable(path)) return respond(notFound());
    const scripted = takeFailure(method, path);
    if (scripted?.delayMs) await sleep(scripted.delayMs);
    if (scripted?.status !== undefined) return respond(failureResponse({ ...scripted, status: scripted.status }));
    return respond(await route(method, path, requestUrl.searchParams, form, jsonBody));
  }

  // A RegExp, not a path pattern: msw decodes pattern paths and would throw on a malformed escape (`%E0`).
  const handler = http.all(new RegExp(`^${escapeRegExp(url)}/api/`), ({ request }) => handle(request));

  return {
    url,
    apiKey,
    handlers: [handler],
    state,
    handle,
    reset,
    failNext(failure) {
      failures.push(failure);
    },
    redirectNext(location, redirect = {}) {
      const { status = 301, ...match } = redirect;
      failures.push({ ...match, status, body: '', headers: { Location: location } });
    },
    setAccountExists(exists) {
      accountExists = exists;
    },
    requestsTo(path, method) {
      return state.requests.filter(
        (request) =>
          (!method || request.method === method.toUpperCase()) &&
          (typeof path === 'string' ? request.path === path : path.test(request.path)),
      );
    },
  };
}
