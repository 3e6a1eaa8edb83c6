import { type BackoffOptions, backoffDelay, parseRetryAfter, sleep } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { PhoneAuthError, PhoneHttpError, PhoneProtocolError } from './errors.js';
import {
  type ActionSource,
  type CallCommand,
  type CallStatus,
  callCommandSchema,
  type HeartbeatRequest,
  qrExchangeResponseSchema,
  type TelemetryItem,
  tokenObtainResponseSchema,
  tokenRefreshResponseSchema,
  type UserInfoResponse,
  userInfoResponseSchema,
} from './schemas.js';

/** A session: the JWT pair from `/api/token/`. */
export interface PhoneTokens {
  /** Short-lived access token (Bearer). */
  access: string;
  /** Refresh token (rotated on every refresh). */
  refresh: string;
}

/** Settings of a {@link PhoneClient}. */
export interface PhoneClientOptions {
  /** The server, e.g. `https://crm.example.com` (a trailing slash is ignored). */
  baseUrl: string;
  /** This device's id, sent on every device call. */
  deviceId: string;
  /** Human-readable name sent at registration. */
  deviceName?: string;
  /** App version sent at registration and heartbeat. */
  appVersion?: string;
  /** Restore a saved session. */
  tokens?: PhoneTokens;
  /** Called whenever the tokens change (persist them like the Android TokenManager). */
  onTokens?: (tokens: PhoneTokens) => void;
  /** Send a heartbeat every N polls (default 10; 0 disables). */
  heartbeatEveryPolls?: number;
  /** Exponential backoff after 429 / 5xx / network errors (defaults 1 s .. 60 s). */
  backoff?: BackoffOptions;
  /** Timeout of one request (default 30 s); a long-poll gets `wait_seconds` on top. */
  requestTimeoutMs?: number;
  /** Telemetry items kept in memory at most (default 500, oldest dropped). */
  telemetryMaxQueue?: number;
  /** HTTP implementation (default `globalThis.fetch`; inject one to test without sockets). */
  fetch?: typeof fetch;
  /** Time source (default the system clock). */
  clock?: Clock;
  /** [0, 1) source for jitter. */
  random?: () => number;
  /** How `pollOnce` waits out a backoff (default a timer that resolves early on abort). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One long-poll's outcome: a command, nothing (204), or throttled (429, wait `retryAfterMs`). */
export type PullResult =
  | {
      /** The server answered 200 with a call to place. */
      status: 'command';
      /** The call to place. */
      command: CallCommand;
      /** Round trip of the request in ms, mostly the server's hold time. */
      durationMs: number;
    }
  | {
      /** 204, or a 200 body without a usable command (the Android client treats it as empty). */
      status: 'empty';
      /** Round trip of the request in ms, mostly the server's hold time. */
      durationMs: number;
    }
  | {
      /** 429: throttled; `pollOnce` waits at least `retryAfterMs` before the next poll. */
      status: 'rate_limited';
      /** The server's `Retry-After`, in ms (0 when absent). */
      retryAfterMs: number;
    };

/** A call result for {@link PhoneClient.sendCallResult}; any field after `durationSeconds` makes it extended. */
export interface CallResultInput {
  /** The command's id (`call_request_id`). */
  callRequestId: string;
  /** How the call ended. */
  status: CallStatus;
  /** ISO 8601 start of the call. */
  startedAt?: string | null;
  /** Talk time in seconds. */
  durationSeconds?: number | null;
  /** ISO 8601 end of the call (extended). */
  endedAt?: string | null;
  /** `outgoing` / `incoming` (extended). */
  direction?: string | null;
  /** How the app determined the status (extended). */
  resolveMethod?: string | null;
  /** Why the app chose that status (extended). */
  resolveReason?: string | null;
  /** Why the status is `unknown`, when it is (extended). */
  reasonIfUnknown?: string | null;
  /** Dial attempts made (extended). */
  attemptsCount?: number | null;
  /** What started the call (extended). */
  actionSource?: ActionSource | null;
}

/** Counters of a {@link PhoneClient} since it was created. */
export interface PhoneClientMetrics {
  /** Long-polls sent. */
  polls: number;
  /** Polls answered with a command. */
  commands: number;
  /** Polls answered with 204. */
  empty: number;
  /** Requests answered with 429. */
  rateLimited: number;
  /** Token refreshes. */
  refreshes: number;
  /** Call results re-sent as legacy payloads after the extended one was refused. */
  legacyFallbacks: number;
  /** Heartbeats sent. */
  heartbeats: number;
  /** Failed polls and heartbeats (5xx, network). */
  errors: number;
  /** Telemetry items dropped (throttled, backing off, queue full). */
  telemetryDropped: number;
  /** Time spent waiting out backoffs, in ms. */
  backoffMs: number;
}

/** A telemetry item for {@link PhoneClient.recordTelemetry} (the app's wire field names). */
export interface TelemetryInput {
  /** Item type, e.g. `pull_call`. */
  type: string;
  /** ISO 8601 time (default now). */
  ts?: string;
  /** The endpoint measured. */
  endpoint?: string;
  /** Its HTTP status. */
  http_code?: number;
  /** Its duration in ms. */
  value_ms?: number;
  /** Anything else. */
  extra?: Record<string, unknown>;
}

type Query = Record<string, string | number | undefined>;

/**
 * TypeScript client with the Android dialer's behaviour: single-flight token refresh on 401/403,
 * backoff with jitter on 429 honouring Retry-After, extended -> legacy fallback for call results,
 * no telemetry queued for throttled requests or while backing off, and a heartbeat every N polls.
 */
export class PhoneClient {
  /** Counters since the client was created. */
  readonly metrics: PhoneClientMetrics = {
    polls: 0,
    commands: 0,
    empty: 0,
    rateLimited: 0,
    refreshes: 0,
    legacyFallbacks: 0,
    heartbeats: 0,
    errors: 0,
    telemetryDropped: 0,
    backoffMs: 0,
  };
  private readonly options: PhoneClientOptions;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private tokens: PhoneTokens | undefined;
  private refreshing: Promise<void> | undefined;
  private telemetry: TelemetryItem[] = [];
  private failures = 0;
  private backoffUntil = 0;
  private lastPollCode: number | undefined;
  private lastPollAt: number | undefined;
  private pollsSinceHeartbeat = 0;

  constructor(options: PhoneClientOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
    this.tokens = options.tokens;
  }

  /** The device id this client speaks for. */
  get deviceId(): string {
    return this.options.deviceId;
  }

  /** The current tokens, if logged in. */
  get session(): PhoneTokens | undefined {
    return this.tokens ? { ...this.tokens } : undefined;
  }

  /** `POST /api/token/` */
  async login(
    username: string,
    password: string,
  ): Promise<{
    /** The server's `is_admin` for this user. */
    isAdmin: boolean;
  }> {
    const res = await this.send('POST', '/api/token/', { body: { username, password } });
    if (res.status === 401) throw new PhoneAuthError(401, await detail(res));
    const body = tokenObtainResponseSchema.parse(await this.expectJson(res, '/api/token/'));
    this.setTokens({ access: body.access, refresh: body.refresh });
    return { isAdmin: body.is_admin };
  }

  /** `POST /api/phone/qr/exchange/` */
  async loginWithQr(token: string): Promise<{
    /** The user the QR token was issued for; the client is now logged in as this user. */
    username: string;
  }> {
    const res = await this.send('POST', '/api/phone/qr/exchange/', { body: { token } });
    if (res.status === 401 || res.status === 400) throw new PhoneAuthError(res.status, await detail(res));
    const body = qrExchangeResponseSchema.parse(await this.expectJson(res, '/api/phone/qr/exchange/'));
    this.setTokens({ access: body.access, refresh: body.refresh });
    return { username: body.username };
  }

  /**
   * `POST /api/token/refresh/`, single-flight: concurrent callers share one request. A rejected refresh token
   * throws {@link PhoneAuthError} (log in again); 5xx and network errors keep the session (retry later).
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const refresh = this.tokens?.refresh;
    if (!refresh) throw new PhoneAuthError(401, 'not logged in');
    const res = await this.send('POST', '/api/token/refresh/', { body: { refresh } });
    if (res.status === 401 || res.status === 400) {
      this.tokens = undefined;
      throw new PhoneAuthError(res.status, await detail(res));
    }
    const body = tokenRefreshResponseSchema.parse(await this.expectJson(res, '/api/token/refresh/'));
    this.metrics.refreshes += 1;
    this.setTokens({ access: body.access, refresh: body.refresh ?? refresh });
  }

  /** `GET /api/phone/user/info/` */
  async userInfo(): Promise<UserInfoResponse> {
    const res = await this.authed('GET', '/api/phone/user/info/');
    return userInfoResponseSchema.parse(await this.expectJson(res, '/api/phone/user/info/'));
  }

  /** `POST /api/phone/devices/register/`; `fcm_token` is sent only when non-empty. */
  async registerDevice(fcmToken?: string): Promise<void> {
    const body: Record<string, string> = { device_id: this.options.deviceId };
    if (this.options.deviceName) body.device_name = this.options.deviceName;
    if (fcmToken) body.fcm_token = fcmToken;
    await this.expectJson(await this.authed('POST', '/api/phone/devices/register/', { body }), 'devices/register');
  }

  /** One `GET /api/phone/calls/pull/` without any waiting policy. */
  async pull(options: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<PullResult> {
    const started = this.clock.now();
    const endpoint = '/api/phone/calls/pull/';
    const waitSeconds = options.waitSeconds ?? 25;
    const res = await this.authed('GET', endpoint, {
      query: { device_id: this.options.deviceId, wait_seconds: waitSeconds },
      signal: options.signal,
      extraTimeoutMs: waitSeconds * 1000,
    });
    const durationMs = this.clock.now() - started;
    this.metrics.polls += 1;
    this.lastPollCode = res.status;
    this.lastPollAt = this.clock.now();
    if (res.status === 429) {
      await res.body?.cancel();
      this.metrics.rateLimited += 1;
      // No telemetry for a throttled request: queuing it would only feed the avalanche.
      return { status: 'rate_limited', retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.clock) };
    }
    this.recordTelemetry({ type: 'pull_call', endpoint, http_code: res.status, value_ms: durationMs });
    if (res.status === 204) {
      await res.body?.cancel();
      this.metrics.empty += 1;
      return { status: 'empty', durationMs };
    }
    const body = await this.expectJson(res, endpoint);
    const parsed = callCommandSchema.safeParse(body);
    // The Android client treats a command without a phone as empty.
    if (!parsed.success) {
      this.metrics.empty += 1;
      return { status: 'empty', durationMs };
    }
    this.metrics.commands += 1;
    return { status: 'command', command: parsed.data, durationMs };
  }

  /**
   * One iteration of the poll loop: waits out any backoff, pulls, schedules backoff after 429 / errors
   * (exponential with jitter, never shorter than Retry-After) and sends a heartbeat every N polls.
   */
  async pollOnce(options: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<PullResult | undefined> {
    const wait = this.backoffUntil - this.clock.now();
    if (wait > 0) {
      this.metrics.backoffMs += wait;
      await this.sleep(wait, options.signal);
    }
    if (options.signal?.aborted) return undefined;
    let result: PullResult;
    try {
      result = await this.pull(options);
    } catch (err) {
      if (options.signal?.aborted) return undefined;
      if (err instanceof PhoneAuthError) throw err;
      this.metrics.errors += 1;
      this.scheduleBackoff(0);
      throw err;
    }
    if (result.status === 'rate_limited') this.scheduleBackoff(result.retryAfterMs);
    else {
      this.failures = 0;
      this.backoffUntil = 0;
    }
    const every = this.options.heartbeatEveryPolls ?? 10;
    this.pollsSinceHeartbeat += 1;
    if (every > 0 && this.pollsSinceHeartbeat >= every && result.status !== 'rate_limited') {
      this.pollsSinceHeartbeat = 0;
      await this.heartbeat().catch(() => {
        this.metrics.errors += 1;
      });
    }
    return result;
  }

  /** Delay before the next request; exposed for diagnostics. */
  get backoffRemainingMs(): number {
    return Math.max(0, this.backoffUntil - this.clock.now());
  }

  private scheduleBackoff(retryAfterMs: number): void {
    this.failures += 1;
    const jittered = backoffDelay(this.failures, this.options.backoff, this.random);
    this.backoffUntil = this.clock.now() + Math.max(retryAfterMs, jittered);
  }

  /**
   * `POST /api/phone/calls/update/`: the extended payload when any extended field is set, else legacy.
   * If the server rejects the extended payload with 400/415/422, the legacy payload is sent instead.
   */
  async sendCallResult(input: CallResultInput): Promise<{
    /** The payload that got the answer: `extended`, or `legacy` (no extended field set, or extended was rejected). */
    format: 'legacy' | 'extended';
    /** The server answered `acknowledged: true`. */
    acknowledged: boolean;
  }> {
    const legacy = {
      call_request_id: input.callRequestId,
      call_status: input.status,
      call_started_at: input.startedAt ?? null,
      call_duration_seconds: input.durationSeconds ?? null,
    };
    const extendedFields = Object.fromEntries(
      Object.entries({
        call_ended_at: input.endedAt,
        direction: input.direction,
        resolve_method: input.resolveMethod,
        resolve_reason: input.resolveReason,
        reason_if_unknown: input.reasonIfUnknown,
        attempts_count: input.attemptsCount,
        action_source: input.actionSource,
      }).filter(([, v]) => v !== undefined && v !== null),
    );
    const endpoint = '/api/phone/calls/update/';
    if (Object.keys(extendedFields).length > 0) {
      const res = await this.authed('POST', endpoint, { body: { ...legacy, ...extendedFields } });
      if (![400, 415, 422].includes(res.status)) {
        const body = (await this.expectJson(res, endpoint)) as { acknowledged?: unknown };
        return { format: 'extended', acknowledged: body.acknowledged === true };
      }
      await res.body?.cancel();
      this.metrics.legacyFallbacks += 1;
    }
    const res = await this.authed('POST', endpoint, { body: legacy });
    const body = (await this.expectJson(res, endpoint)) as { acknowledged?: unknown };
    return { format: 'legacy', acknowledged: body.acknowledged === true };
  }

  /** `POST /api/phone/devices/heartbeat/` with the client's own poll state plus `extra` (queue health). */
  async heartbeat(extra: Partial<Omit<HeartbeatRequest, 'device_id'>> = {}): Promise<void> {
    const body: Record<string, unknown> = { device_id: this.options.deviceId, ...extra };
    if (this.options.deviceName) body.device_name = this.options.deviceName;
    if (this.options.appVersion) body.app_version = this.options.appVersion;
    if (this.lastPollCode !== undefined) body.last_poll_code = this.lastPollCode;
    if (this.lastPollAt !== undefined) body.last_poll_at = new Date(this.lastPollAt).toISOString();
    await this.expectJson(await this.authed('POST', '/api/phone/devices/heartbeat/', { body }), 'heartbeat');
    this.metrics.heartbeats += 1;
  }

  /** Queues a telemetry item; dropped while the client is backing off after 429. */
  recordTelemetry(item: TelemetryInput): boolean {
    if (this.backoffUntil > this.clock.now()) {
      this.metrics.telemetryDropped += 1;
      return false;
    }
    const queued: TelemetryItem = { ...item, ts: item.ts ?? new Date(this.clock.now()).toISOString() };
    this.telemetry.push(queued);
    const max = this.options.telemetryMaxQueue ?? 500;
    if (this.telemetry.length > max) {
      this.metrics.telemetryDropped += this.telemetry.length - max;
      this.telemetry.splice(0, this.telemetry.length - max);
    }
    return true;
  }

  /** Telemetry items waiting for {@link PhoneClient.flushTelemetry}. */
  get queuedTelemetry(): number {
    return this.telemetry.length;
  }

  /** `POST /api/phone/telemetry/` with everything queued; items go back to the queue if the send fails. */
  async flushTelemetry(): Promise<number> {
    if (this.telemetry.length === 0) return 0;
    const items = this.telemetry;
    this.telemetry = [];
    try {
      const res = await this.authed('POST', '/api/phone/telemetry/', {
        body: { device_id: this.options.deviceId, items },
      });
      if (res.status === 429) {
        this.scheduleBackoff(parseRetryAfter(res.headers.get('retry-after'), this.clock));
      }
      await this.expectJson(res, '/api/phone/telemetry/');
      return items.length;
    } catch (err) {
      this.telemetry = [...items, ...this.telemetry];
      throw err;
    }
  }

  /** `POST /api/phone/logs/`; mask phone numbers and tokens in `payload` before calling. */
  async sendLogs(bundle: { payload: string; levelSummary?: string; source?: string; ts?: string }): Promise<void> {
    const body = {
      device_id: this.options.deviceId,
      ts: bundle.ts ?? new Date(this.clock.now()).toISOString(),
      payload: bundle.payload,
      ...(bundle.levelSummary ? { level_summary: bundle.levelSummary } : {}),
      ...(bundle.source ? { source: bundle.source } : {}),
    };
    await this.expectJson(await this.authed('POST', '/api/phone/logs/', { body }), '/api/phone/logs/');
  }

  private setTokens(tokens: PhoneTokens): void {
    this.tokens = tokens;
    this.options.onTokens?.({ ...tokens });
  }

  /** Sends with the access token; on 401/403 refreshes once (shared with concurrent callers) and retries. */
  private async authed(
    method: string,
    path: string,
    init: { body?: unknown; query?: Query; signal?: AbortSignal | undefined; extraTimeoutMs?: number } = {},
  ): Promise<Response> {
    const used = this.tokens?.access;
    if (!used) throw new PhoneAuthError(401, 'not logged in');
    const res = await this.send(method, path, { ...init, access: used });
    if (res.status !== 401 && res.status !== 403) return res;
    await res.body?.cancel();
    // Someone else already refreshed while this request was in flight: just retry with the new token.
    if (this.tokens?.access === used) await this.refresh();
    const access = this.tokens?.access;
    if (!access) throw new PhoneAuthError(401, 'session lost');
    const retried = await this.send(method, path, { ...init, access });
    if (retried.status === 401 || retried.status === 403) {
      throw new PhoneAuthError(retried.status, await detail(retried));
    }
    return retried;
  }

  private async send(
    method: string,
    path: string,
    init: {
      body?: unknown;
      query?: Query;
      signal?: AbortSignal | undefined;
      access?: string;
      extraTimeoutMs?: number;
    },
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.access) headers.authorization = `Bearer ${init.access}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const requestInit: RequestInit = { method, headers };
    if (init.body !== undefined) requestInit.body = JSON.stringify(init.body);
    // A silent server must not hang the device forever: every request has a deadline.
    const timeout = AbortSignal.timeout((this.options.requestTimeoutMs ?? 30_000) + (init.extraTimeoutMs ?? 0));
    requestInit.signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await this.fetchImpl(url, requestInit);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new PhoneProtocolError('network_error', `${method} ${path} failed: network error`, {
        isRetryable: true,
        cause: err,
      });
    }
  }

  private async expectJson(res: Response, endpoint: string): Promise<unknown> {
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (res.status < 200 || res.status >= 300) {
      const retryAfter = res.headers.get('retry-after');
      const retryAfterMs = retryAfter ? parseRetryAfter(retryAfter, this.clock) : undefined;
      throw new PhoneHttpError(res.status, body, endpoint, retryAfterMs);
    }
    return body;
  }
}

async function detail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    return typeof body.detail === 'string' ? body.detail : text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
