import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Clock, systemClock } from './clock.js';
import type { CommandBus, CommandExtra, PhoneCommand } from './command-bus.js';
import { type DeviceRecord, type DeviceRegistry, listOnlineDevices, sameOwner } from './devices.js';
import { PhoneProtocolError } from './errors.js';
import { empty, header, json, type PhoneRequest, type PhoneResponse } from './http.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { type HeldPoll, LongPollHub, type SettlePoll } from './long-poll.js';
import { verifyPassword } from './password.js';
import { generateQrToken, type QrTokenStore, qrTokenDigest } from './qr-tokens.js';
import { PollRateLimiter, type PollRateLimitOptions } from './rate-limit.js';
import { InMemoryRevokedTokenStore, type RevokedTokenStore } from './revoked-tokens.js';
import {
  deviceRegisterRequestSchema,
  type ExtendedCallUpdate,
  extendedCallUpdateFields,
  extendedCallUpdateSchema,
  heartbeatRequestSchema,
  type LogsBundle,
  logsBundleSchema,
  pullQuerySchema,
  qrExchangeRequestSchema,
  type TelemetryBatch,
  telemetryBatchSchema,
  tokenObtainRequestSchema,
  tokenRefreshRequestSchema,
} from './schemas.js';
import { VerifiedTokenCache } from './token-cache.js';
import {
  type AuthOptions,
  createTokenService,
  TokenInvalidError,
  type TokenService,
  type VerifiedToken,
} from './tokens.js';
import type { PhoneUser, UserStore } from './users.js';

/** Logger port in pino's argument order (fields first, message second): a pino logger is passed as is. */
export interface PhoneLogger {
  /** A recoverable anomaly worth a look (e.g. a reused refresh token). */
  warn(obj: object, msg?: string): void;
  /** A failed request or callback; the error is under `err`. */
  error(obj: object, msg?: string): void;
}

/** What `onCallResult` receives: one call result from a device. */
export interface CallResultEvent {
  /** The authenticated sender. */
  user: Pick<PhoneUser, 'id' | 'username'>;
  /** `legacy` when none of the extended fields was sent. */
  format: 'legacy' | 'extended';
  /** The result, normalised to the extended shape. */
  update: ExtendedCallUpdate;
  /** The command this result answers, if it was still pending (first delivery of this result). */
  command?: PhoneCommand;
}

/** Who posted telemetry or logs. */
export interface DeviceContext {
  /** The authenticated user. */
  user: Pick<PhoneUser, 'id' | 'username'>;
  /** The device the post came from. */
  device: DeviceRecord;
}

/** Everything {@link createPhoneProtocol} needs: the ports, the JWT settings and the callbacks. */
export interface PhoneProtocolOptions {
  /** JWT secret and token lifetimes. */
  auth: AuthOptions;
  /** Operators' accounts. */
  users: UserStore;
  /** Registered devices. */
  devices: DeviceRegistry;
  /** Per-device command queue (give it the same clock). */
  commands: CommandBus;
  /** One-time QR login tokens. */
  qrTokens: QrTokenStore;
  /** Time source for tokens, TTLs and deadlines (default the system clock). */
  clock?: Clock;
  /** Long-poll settings. */
  pull?: {
    /** Used when `wait_seconds` is missing or not a number (default 25). */
    defaultWaitSeconds?: number;
    /** Upper clamp of `wait_seconds` (default 30). */
    maxWaitSeconds?: number;
    /** Per-device poll rate limit (429 + Retry-After); `false` disables it. */
    rateLimit?: PollRateLimitOptions | false;
  };
  /** Lifetime of a QR login token (default 120 s). */
  qrTokenTtlSeconds?: number;
  /**
   * Brute-force brake on `/api/token/` and `/api/phone/qr/exchange/` (429 + Retry-After after too many failures
   * per username + IP and per IP). On by default with in-memory counters; `false` disables it.
   */
  loginThrottle?: LoginThrottleOptions | false;
  /**
   * Where used refresh tokens and revoked families are remembered (rotation is on by default), so a refresh
   * token works once and a replay revokes its family. Default: in process memory; share one (Redis, SQL)
   * between instances.
   */
  revokedTokens?: RevokedTokenStore;
  /**
   * How many verified access tokens to remember (default 50,000; 0 turns it off). A remembered token skips the
   * signature check until its own `exp`; each entry is the token string plus its claims (~0.4 KB).
   */
  verifiedTokenCacheSize?: number;
  /**
   * The tenant a user belongs to (the server's enterprise number). Devices are owned by (tenant, user): one
   * tenant's user can never take over another tenant's device. Default: no tenants.
   */
  tenantOf?: (user: PhoneUser) => string | undefined;
  /** `false` emulates a strict legacy server: extended call updates get 400 (for client fallback tests). */
  acceptExtendedCallUpdates?: boolean;
  /** Id of an enqueued command when the caller gives none (default a random UUID). */
  generateCommandId?: () => string;
  /** Called before the command is acknowledged; if it throws the device gets 503 and retries. */
  onCallResult?: (event: CallResultEvent) => void | Promise<void>;
  /** Receives each telemetry batch a device posts. */
  onTelemetry?: (batch: TelemetryBatch, context: DeviceContext) => void | Promise<void>;
  /** Receives each log bundle a device posts. */
  onLogs?: (bundle: LogsBundle, context: DeviceContext) => void | Promise<void>;
  /** Where failures and token reuse are logged (pino as is; default silent). */
  logger?: PhoneLogger;
}

/** One route's framework-free handler. */
export type PhoneHandler = (req: PhoneRequest) => Promise<PhoneResponse>;

/** The name of each protocol route. */
export type PhoneRouteName =
  | 'tokenObtain'
  | 'tokenRefresh'
  | 'qrExchange'
  | 'userInfo'
  | 'deviceRegister'
  | 'callsPull'
  | 'callsUpdate'
  | 'heartbeat'
  | 'telemetry'
  | 'logs';

/** One protocol route. */
export interface PhoneRoute {
  /** HTTP method. */
  method: 'GET' | 'POST';
  /** Exactly as the Android client calls it, trailing slash included. */
  path: string;
  /** Key in {@link PhoneProtocol.handlers}. */
  name: PhoneRouteName;
}

/** Every route of the protocol, as the Android client calls them. */
export const phoneRoutes: readonly PhoneRoute[] = [
  { method: 'POST', path: '/api/token/', name: 'tokenObtain' },
  { method: 'POST', path: '/api/token/refresh/', name: 'tokenRefresh' },
  { method: 'POST', path: '/api/phone/qr/exchange/', name: 'qrExchange' },
  { method: 'GET', path: '/api/phone/user/info/', name: 'userInfo' },
  { method: 'POST', path: '/api/phone/devices/register/', name: 'deviceRegister' },
  { method: 'GET', path: '/api/phone/calls/pull/', name: 'callsPull' },
  { method: 'POST', path: '/api/phone/calls/update/', name: 'callsUpdate' },
  { method: 'POST', path: '/api/phone/devices/heartbeat/', name: 'heartbeat' },
  { method: 'POST', path: '/api/phone/telemetry/', name: 'telemetry' },
  { method: 'POST', path: '/api/phone/logs/', name: 'logs' },
];

/** Who a click-to-call command is for: one device, or the most recently seen device of a user. */
export type CommandTarget =
  | {
      /** The device (its `device_id`) that receives the command. */
      deviceId: string;
    }
  | {
      /** The user's id; the command goes to the user's most recently seen device. */
      userId: string;
    }
  | {
      /** The user's login; the command goes to the user's most recently seen device. */
      username: string;
    };

/** A click-to-call command to enqueue. */
export interface EnqueueInput {
  /** The number to dial. */
  phone: string;
  /** Defaults to `generateCommandId()`; re-enqueuing a pending id is a no-op. */
  id?: string;
  /** Scalar extras sent to the device with the command. */
  extra?: CommandExtra;
}

/** Where a pull's answer goes: the promise handler resolves, the node:http adapter writes the socket. */
export interface PullTarget {
  /** Called exactly once, with the final response (200 command, 204, or an error). */
  reply(response: PhoneResponse): void;
}

/** The protocol server: framework-free handlers over the injected ports ({@link createPhoneProtocol}). */
export interface PhoneProtocol {
  /** Every route ({@link phoneRoutes}). */
  readonly routes: readonly PhoneRoute[];
  /** One handler per route. */
  readonly handlers: Readonly<Record<PhoneRouteName, PhoneHandler>>;
  /**
   * The long-poll without a promise per held poll, for HTTP adapters: answers `target.reply` once and returns the
   * held poll (to {@link cancelPull} when the client goes away), or `undefined` when it answered right away.
   * `handlers.callsPull` is the promise form of the same thing.
   */
  pull(req: PhoneRequest, target: PullTarget): Promise<HeldPoll<PullTarget> | undefined>;
  /** The client of a held poll disconnected: frees its waiter and timer (a command claimed meanwhile is released). */
  cancelPull(poll: HeldPoll<PullTarget>): void;
  /** Dispatches by method and path (a missing trailing slash is tolerated); 404/405 otherwise. */
  handle(req: PhoneRequest): Promise<PhoneResponse>;
  /** Queues a call command for a device, or for a user's most recently seen device. */
  enqueueCommand(target: CommandTarget, input: EnqueueInput): Promise<PhoneCommand>;
  /** Issues a one-time QR login token for a user (show it as a QR code in the CRM). */
  createQrToken(userId: string): Promise<{
    /** The one-time token to encode in the QR code; only its digest is stored. */
    token: string;
    /** When the token stops being accepted, in ms since the epoch (`qrTokenTtlSeconds` from now, default 120 s). */
    expiresAt: number;
  }>;
  /** Devices seen within `windowMs` (default 90 s). */
  onlineDevices(windowMs?: number): Promise<DeviceRecord[]>;
  /** Long-poll counters of this instance. */
  stats(): {
    /** Long-polls this instance is holding open right now. */
    heldPolls: number;
    /**
     * Of those, polls whose claim is still waiting on the command bus (a poll is held from its arrival; with the
     * Redis bus a burst of polls is idle only once its claims have come back).
     */
    claimsInFlight: number;
  };
  /** The JWT service the handlers use. */
  readonly tokens: TokenService;
  /** Answers every held long-poll with 204 (graceful shutdown). Does not close the injected ports. */
  close(): Promise<void>;
}

// Bodies and `code`s below are the original system's wire format (Django REST framework + simplejwt): the Android
// app matches on them, so they keep their wording (`token_not_valid`, `null_characters_not_allowed`, ...).
const NOT_AUTHENTICATED = { detail: 'Authentication credentials were not provided.' };
const TOKEN_NOT_VALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }],
};
const REFRESH_NOT_VALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' };
const NUL_NOT_ALLOWED = { detail: 'Null characters are not allowed.', code: 'null_characters_not_allowed' };
const SURROGATE_NOT_ALLOWED = { detail: 'Unpaired surrogate characters are not allowed.', code: 'invalid_unicode' };
const NO_ACTIVE_ACCOUNT = { detail: 'No active account found with the given credentials' };
const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Bearer realm="api"' };

/** A UTF-16 surrogate without its partner: valid in a JS string, refused by PostgreSQL (text and jsonb). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Which character no store can hold appears in any string (or key) of a parsed JSON value: U+0000 or an unpaired
 * surrogate. Iterative, so depth cannot overflow.
 */
function unstorableCharacter(value: unknown): 'nul' | 'surrogate' | undefined {
  const stack: unknown[] = [value];
  const check = (text: string) =>
    text.includes('\u0000') ? 'nul' : LONE_SURROGATE.test(text) ? 'surrogate' : undefined;
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const found = check(v);
      if (found) return found;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const found = check(k);
        if (found) return found;
        stack.push(child);
      }
    }
  }
  return undefined;
}

/** DRF-style validation body: `{field: ["message"]}`. */
function validationError(error: z.ZodError): PhoneResponse {
  const body: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : 'non_field_errors';
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'This field is required.' : issue.message;
    const list = body[key] ?? [];
    list.push(message);
    body[key] = list;
  }
  return json(400, body);
}

function isJsonRequest(req: PhoneRequest): PhoneResponse | undefined {
  const type = header(req, 'content-type');
  if (type === undefined || /^application\/([\w.+-]*\+)?json\b/i.test(type)) return undefined;
  return json(415, { detail: `Unsupported media type "${type.split(';')[0]}" in request.` });
}

/** 415 for a non-JSON body, 400 (DRF field errors) for an invalid one, else the parsed body. */
function parseBody<S extends z.ZodType>(schema: S, req: PhoneRequest): { data: z.infer<S> } | PhoneResponse {
  const unsupported = isJsonRequest(req);
  if (unsupported) return unsupported;
  const parsed = schema.safeParse(req.body ?? {});
  return parsed.success ? { data: parsed.data } : validationError(parsed.error);
}

/** DRF's throttled shape: 429, `Retry-After` in whole seconds (at least 1). */
function throttled(retryAfterMs: number): PhoneResponse {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return json(
    429,
    { detail: `Request was throttled. Expected available in ${retryAfter} seconds.` },
    { 'Retry-After': retryAfter },
  );
}

/** Builds the protocol server over the given ports; mount it with `./express` or `createPullHandler`. */
export function createPhoneProtocol(options: PhoneProtocolOptions): PhoneProtocol {
  const clock = options.clock ?? systemClock;
  const tokens = createTokenService(options.auth, clock);
  const { users, devices, commands, qrTokens } = options;
  const logger = options.logger;
  const hub = new LongPollHub(commands, clock, (err) => logger?.error({ err }, 'phone long-poll claim failed'));
  const rateLimit = options.pull?.rateLimit;
  const limiter = rateLimit === false ? undefined : new PollRateLimiter(clock, rateLimit);
  const defaultWait = options.pull?.defaultWaitSeconds ?? 25;
  const maxWait = options.pull?.maxWaitSeconds ?? 30;
  const qrTtlMs = (options.qrTokenTtlSeconds ?? 120) * 1000;
  const acceptExtended = options.acceptExtendedCallUpdates ?? true;
  const newCommandId = options.generateCommandId ?? (() => randomUUID());
  const loginThrottle = options.loginThrottle === false ? undefined : new LoginThrottle(clock, options.loginThrottle);
  const revokedTokens = tokens.rotateRefreshTokens
    ? (options.revokedTokens ?? new InMemoryRevokedTokenStore())
    : undefined;

  /** A fresh login: a new refresh-token family, both tokens bound to the user's current password. */
  async function issuePair(user: PhoneUser, family: string = randomUUID()) {
    const credential = tokens.credentialStamp(user.passwordHash);
    return {
      access: await tokens.issue(user.id, 'access', { credential }),
      refresh: await tokens.issue(user.id, 'refresh', { credential, family }),
    };
  }
  /** Tokens issued before a password change carry another stamp (tokens without one predate stamps). */
  const staleCredential = (verified: VerifiedToken, user: PhoneUser) =>
    verified.credential !== undefined && verified.credential !== tokens.credentialStamp(user.passwordHash);
  const clientIp = (req: PhoneRequest) => req.ip ?? 'unknown';
  // Devices poll every ~25 s with the same access token: verify its signature once, not on every poll.
  const verifiedAccess = new VerifiedTokenCache(options.verifiedTokenCacheSize);

  async function authenticate(req: PhoneRequest): Promise<PhoneUser | PhoneResponse> {
    const authorization = header(req, 'authorization');
    const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) return json(401, NOT_AUTHENTICATED, WWW_AUTHENTICATE);
    const token = match[1]!;
    let verified: VerifiedToken | undefined;
    try {
      verified = verifiedAccess.get(token, clock.now());
      if (!verified) {
        verified = await tokens.verify(token, 'access');
        verifiedAccess.set(token, verified);
      }
    } catch (err) {
      if (err instanceof TokenInvalidError) return json(401, TOKEN_NOT_VALID, WWW_AUTHENTICATE);
      throw err;
    }
    const user = await users.findById(verified.userId);
    if (!user) return json(401, { detail: 'User not found', code: 'user_not_found' }, WWW_AUTHENTICATE);
    if (!user.isActive) return json(401, { detail: 'User is inactive', code: 'user_inactive' }, WWW_AUTHENTICATE);
    if (staleCredential(verified, user)) return json(401, TOKEN_NOT_VALID, WWW_AUTHENTICATE);
    return user;
  }

  /** The (tenant, user) that owns what this user registers. */
  const ownerOf = (user: PhoneUser): Pick<DeviceRecord, 'userId' | 'tenant'> => {
    const tenant = options.tenantOf?.(user);
    return tenant === undefined ? { userId: user.id } : { userId: user.id, tenant };
  };
  const NOT_OWNED = json(409, {
    detail: 'Device is registered to another user; an administrator must release it first.',
    code: 'device_not_owned',
  });

  /** Finds the device for this user, registering it on first sight (a server restart with memory storage). */
  async function ownDevice(
    user: PhoneUser,
    deviceId: string,
    deviceName?: string,
  ): Promise<DeviceRecord | PhoneResponse> {
    const owner = ownerOf(user);
    const existing = await devices.get(deviceId);
    if (existing) return sameOwner(existing, owner) ? existing : NOT_OWNED;
    const now = clock.now();
    const record: DeviceRecord = {
      deviceId,
      ...owner,
      registeredAt: now,
      lastSeenAt: now,
      queueStuck: false,
      stuckCount: 0,
      stuckByType: {},
      ...(deviceName ? { deviceName } : {}),
    };
    return (await devices.claim(record)) ? record : NOT_OWNED;
  }

  function internalError(name: PhoneRouteName, err: unknown): PhoneResponse {
    logger?.error(
      {
        code: err instanceof PhoneProtocolError ? err.code : undefined,
        message: err instanceof Error ? err.message : String(err),
      },
      `phone ${name} failed`,
    );
    return json(500, { detail: 'Internal server error.' });
  }

  const guarded =
    (name: PhoneRouteName, handler: PhoneHandler): PhoneHandler =>
    async (req) => {
      // DRF's CharField refuses NUL too; no store can hold it or a lone surrogate (PostgreSQL rejects both).
      const unstorable = unstorableCharacter(req.query) ?? unstorableCharacter(req.body);
      if (unstorable) return json(400, unstorable === 'nul' ? NUL_NOT_ALLOWED : SURROGATE_NOT_ALLOWED);
      try {
        return await handler(req);
      } catch (err) {
        return internalError(name, err);
      }
    };

  const withUser =
    (handler: (req: PhoneRequest, user: PhoneUser) => Promise<PhoneResponse>): PhoneHandler =>
    async (req) => {
      const user = await authenticate(req);
      if ('status' in user) return user;
      return handler(req, user);
    };

  const withJson =
    <S extends z.ZodType>(
      schema: S,
      handler: (body: z.infer<S>, req: PhoneRequest, user: PhoneUser) => Promise<PhoneResponse>,
    ) =>
    async (req: PhoneRequest, user: PhoneUser): Promise<PhoneResponse> => {
      const parsed = parseBody(schema, req);
      return 'status' in parsed ? parsed : handler(parsed.data, req, user);
    };

  const publicUser = (user: PhoneUser) => ({ id: user.id, username: user.username });

  const handlers: Record<PhoneRouteName, PhoneHandler> = {
    async tokenObtain(req) {
      const parsed = parseBody(tokenObtainRequestSchema, req);
      if ('status' in parsed) return parsed;
      const { username, password } = parsed.data;
      const ip = clientIp(req);
      // Refused before any scrypt work, so a blocked attacker costs next to nothing.
      const blockedMs = (await loginThrottle?.blockedFor(ip, username)) ?? 0;
      if (blockedMs > 0) return throttled(blockedMs);
      const user = await users.findByUsername(username);
      // Unknown users still cost one scrypt, so response time does not reveal which usernames exist.
      const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyPassword(password, DUMMY_HASH);
      if (!user || !ok || !user.isActive) {
        await loginThrottle?.failed(ip, username);
        return json(401, NO_ACTIVE_ACCOUNT, WWW_AUTHENTICATE);
      }
      await loginThrottle?.succeeded(ip, username);
      return json(200, { ...(await issuePair(user)), is_admin: user.isAdmin });
    },

    async tokenRefresh(req) {
      const parsed = parseBody(tokenRefreshRequestSchema, req);
      if ('status' in parsed) return parsed;
      let verified: VerifiedToken;
      try {
        verified = await tokens.verify(parsed.data.refresh, 'refresh');
      } catch (err) {
        if (err instanceof TokenInvalidError) return json(401, REFRESH_NOT_VALID, WWW_AUTHENTICATE);
        throw err;
      }
      const now = clock.now();
      const { family } = verified;
      // Revoked until every token this family could still hold has expired.
      const revokeFamily = () =>
        family ? revokedTokens?.revokeFamily(family, now + tokens.refreshTtlSeconds * 1000, now) : undefined;
      if (revokedTokens) {
        // A refresh token works once. Seeing a used one again means two parties hold the family (a stolen
        // token, or the legitimate one after a theft): the whole family is revoked, both must log in again.
        if (!(await revokedTokens.revoke(verified.jti, verified.expiresAt, now))) {
          await revokeFamily();
          logger?.warn({ userId: verified.userId }, 'phone refresh token reused: family revoked');
          return json(401, REFRESH_NOT_VALID, WWW_AUTHENTICATE);
        }
        if (family && (await revokedTokens.isFamilyRevoked(family, now))) {
          return json(401, REFRESH_NOT_VALID, WWW_AUTHENTICATE);
        }
      }
      const user = await users.findById(verified.userId);
      if (!user?.isActive) {
        await revokeFamily();
        return json(401, { detail: 'No active account found for the given token.', code: 'no_active_account' });
      }
      // The password changed since this login: the session ends.
      if (staleCredential(verified, user)) {
        await revokeFamily();
        return json(401, REFRESH_NOT_VALID, WWW_AUTHENTICATE);
      }
      if (!tokens.rotateRefreshTokens) {
        return json(200, {
          access: await tokens.issue(user.id, 'access', { credential: tokens.credentialStamp(user.passwordHash) }),
        });
      }
      return json(200, await issuePair(user, family));
    },

    async qrExchange(req) {
      const parsed = parseBody(qrExchangeRequestSchema, req);
      if ('status' in parsed) return parsed;
      const ip = clientIp(req);
      const blockedMs = (await loginThrottle?.blockedFor(ip)) ?? 0;
      if (blockedMs > 0) return throttled(blockedMs);
      const token = (parsed.data.token ?? parsed.data.qr_token)!;
      const userId = await qrTokens.take(qrTokenDigest(token), clock.now());
      const user = userId === undefined ? undefined : await users.findById(userId);
      if (!user?.isActive) {
        await loginThrottle?.failed(ip);
        return json(401, { detail: 'QR token is invalid, expired or already used.', code: 'qr_token_invalid' });
      }
      return json(200, { ...(await issuePair(user)), username: user.username });
    },

    userInfo: withUser(async (_req, user) =>
      json(200, { id: user.id, username: user.username, is_admin: user.isAdmin, is_active: user.isActive }),
    ),

    deviceRegister: withUser(
      withJson(deviceRegisterRequestSchema, async (body, _req, user) => {
        const now = clock.now();
        const owner = ownerOf(user);
        const existing = await devices.get(body.device_id);
        // A device owned by someone else stays theirs (it receives their click-to-call commands): a phone handed
        // to another operator needs an administrator's release first.
        if (existing && !sameOwner(existing, owner)) return NOT_OWNED;
        const record: DeviceRecord = {
          ...(existing ?? { registeredAt: now, queueStuck: false, stuckCount: 0, stuckByType: {} }),
          deviceId: body.device_id,
          ...owner,
          lastSeenAt: now,
        };
        if (body.device_name) record.deviceName = body.device_name;
        if (body.fcm_token) record.fcmToken = body.fcm_token;
        if (!(await devices.claim(record))) return NOT_OWNED;
        return json(200, { ok: true, device_id: record.deviceId });
      }),
    ),

    callsPull: (req) =>
      new Promise((resolve) => {
        const signal = req.signal;
        let onAbort: (() => void) | undefined;
        const target: PullTarget = {
          reply(response) {
            if (onAbort) signal?.removeEventListener('abort', onAbort);
            resolve(response);
          },
        };
        void pull(req, target).then((poll) => {
          if (!poll || !signal) return;
          onAbort = () => hub.cancel(poll);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
      }),

    callsUpdate: withUser(async (req, user) => {
      const unsupported = isJsonRequest(req);
      if (unsupported) return unsupported;
      const raw = (req.body ?? {}) as Record<string, unknown>;
      const extendedSent = extendedCallUpdateFields.filter((f) => raw[f] !== undefined && raw[f] !== null);
      if (extendedSent.length > 0 && !acceptExtended) {
        return json(400, Object.fromEntries(extendedSent.map((f) => [f, ['Unknown field.']])));
      }
      const parsed = extendedCallUpdateSchema.safeParse(raw);
      if (!parsed.success) return validationError(parsed.error);
      const update = parsed.data;
      const command = await commands.get(update.call_request_id);
      if (command) {
        // Only the (tenant, user) owning the command's device may resolve it.
        const device = await devices.get(command.deviceId);
        if (device !== undefined && !sameOwner(device, ownerOf(user))) {
          return json(409, { detail: 'This call request belongs to another user.', code: 'command_not_owned' });
        }
      }
      try {
        await options.onCallResult?.({
          user: publicUser(user),
          format: extendedSent.length > 0 ? 'extended' : 'legacy',
          update,
          ...(command ? { command } : {}),
        });
      } catch (err) {
        logger?.error({ callRequestId: update.call_request_id, err }, 'phone onCallResult failed');
        return json(503, { detail: 'Result not stored, retry later.' }, { 'Retry-After': '5' });
      }
      const acknowledged = (await commands.ack(update.call_request_id)) !== undefined;
      return json(200, { ok: true, acknowledged });
    }),

    heartbeat: withUser(
      withJson(heartbeatRequestSchema, async (body, _req, user) => {
        const device = await ownDevice(user, body.device_id, body.device_name);
        if ('status' in device) return device;
        const now = clock.now();
        const next: DeviceRecord = {
          ...device,
          lastSeenAt: now,
          lastHeartbeatAt: now,
          queueStuck: body.queue_stuck ?? false,
          stuckCount: body.stuck_count ?? 0,
          stuckByType: body.stuck_by_type ?? {},
        };
        if (body.device_name) next.deviceName = body.device_name;
        if (body.app_version) next.appVersion = body.app_version;
        if (body.last_poll_code !== undefined) next.lastPollCode = body.last_poll_code;
        if (body.encryption_enabled !== undefined) next.encryptionEnabled = body.encryption_enabled;
        if (body.oldest_stuck_age_sec !== undefined) next.oldestStuckAgeSec = body.oldest_stuck_age_sec;
        else delete next.oldestStuckAgeSec;
        await devices.put(next);
        return json(200, { ok: true });
      }),
    ),

    telemetry: withUser(
      withJson(telemetryBatchSchema, (body, _req, user) =>
        fromDevice(user, body.device_id, async (context) => {
          await options.onTelemetry?.(body, context);
          return json(200, { ok: true, accepted: body.items.length });
        }),
      ),
    ),

    logs: withUser(
      withJson(logsBundleSchema, (body, _req, user) =>
        fromDevice(user, body.device_id, async (context) => {
          await options.onLogs?.(body, context);
          return json(200, { ok: true });
        }),
      ),
    ),
  };

  /** Checks ownership, marks the device as seen, then hands the upload to its hook. */
  async function fromDevice(
    user: PhoneUser,
    deviceId: string,
    deliver: (context: DeviceContext) => Promise<PhoneResponse>,
  ): Promise<PhoneResponse> {
    const device = await ownDevice(user, deviceId);
    if ('status' in device) return device;
    await devices.put({ ...device, lastSeenAt: clock.now() });
    return deliver({ user: publicUser(user), device });
  }

  async function recordPoll(deviceId: string, code: number): Promise<void> {
    // Re-read: a heartbeat may have landed while the poll was held (and the held poll keeps no record copy).
    const current = await devices.get(deviceId);
    if (!current) return;
    const now = clock.now();
    await devices.put({ ...current, lastSeenAt: now, lastPollAt: now, lastPollCode: code });
  }

  /** Auth, query, ownership and the rate limit of a pull: an error response, or what to wait for. */
  async function admitPull(req: PhoneRequest): Promise<PhoneResponse | { deviceId: string; waitMs: number }> {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const parsed = pullQuerySchema.safeParse(req.query);
    if (!parsed.success) return validationError(parsed.error);
    const deviceId = parsed.data.device_id;
    const device = await ownDevice(user, deviceId);
    if ('status' in device) return device;
    const decision = limiter?.take(deviceId) ?? { allowed: true };
    if (!decision.allowed) {
      await recordPoll(deviceId, 429);
      return throttled(decision.retryAfterMs);
    }
    const requested = Number.parseFloat(parsed.data.wait_seconds ?? '');
    const waitSeconds = Number.isFinite(requested) ? Math.min(Math.max(requested, 0), maxWait) : defaultWait;
    return { deviceId, waitMs: waitSeconds * 1000 };
  }

  async function answerPull(deviceId: string, command: PhoneCommand | undefined): Promise<PhoneResponse> {
    if (!command) {
      await recordPoll(deviceId, 204);
      return empty(204);
    }
    await recordPoll(deviceId, 200);
    // `enqueued_at` (epoch ms) lets devices and the simulator measure delivery latency; old clients ignore it.
    return json(200, { ...command.extra, id: command.id, phone: command.phone, enqueued_at: command.enqueuedAt });
  }

  function replyToPull(target: PullTarget, deviceId: string, command: PhoneCommand | undefined): void {
    answerPull(deviceId, command).then(
      (response) => target.reply(response),
      (err: unknown) => target.reply(internalError('callsPull', err)),
    );
  }

  // One function for every held poll: the hub passes the poll record, so holding allocates no closure.
  const settleHeldPull: SettlePoll<PullTarget> = (poll, command) => replyToPull(poll.target, poll.deviceId, command);

  async function pull(req: PhoneRequest, target: PullTarget): Promise<HeldPoll<PullTarget> | undefined> {
    let admitted: Awaited<ReturnType<typeof admitPull>>;
    try {
      admitted = await admitPull(req);
    } catch (err) {
      target.reply(internalError('callsPull', err));
      return undefined;
    }
    if ('status' in admitted) {
      target.reply(admitted);
      return undefined;
    }
    const { deviceId, waitMs } = admitted;
    if (waitMs > 0 && !req.signal?.aborted) return hub.hold(deviceId, waitMs, target, settleHeldPull);
    // A plain check (`wait_seconds=0`), or a client that already left; a new poll still replaces a held one.
    hub.cancelDevice(deviceId);
    const command = req.signal?.aborted ? undefined : await hub.claimNow(deviceId, req.signal);
    replyToPull(target, deviceId, command);
    return undefined;
  }

  const guardedHandlers = Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [name, guarded(name as PhoneRouteName, handler)]),
  ) as Record<PhoneRouteName, PhoneHandler>;

  const normalise = (path: string) => (path.endsWith('/') ? path : `${path}/`);

  return {
    routes: phoneRoutes,
    handlers: guardedHandlers,
    pull,
    cancelPull: (poll) => hub.cancel(poll),
    tokens,
    async handle(req) {
      const path = normalise(req.path);
      const matches = phoneRoutes.filter((r) => r.path === path);
      if (matches.length === 0) return json(404, { detail: 'Not found.' });
      const route = matches.find((r) => r.method === req.method.toUpperCase());
      if (!route) {
        return json(
          405,
          { detail: `Method "${req.method.toUpperCase()}" not allowed.` },
          {
            Allow: matches.map((r) => r.method).join(', '),
          },
        );
      }
      return guardedHandlers[route.name](req);
    },
    async enqueueCommand(target, input) {
      let deviceId: string;
      if ('deviceId' in target) deviceId = target.deviceId;
      else {
        const user =
          'userId' in target ? await users.findById(target.userId) : await users.findByUsername(target.username);
        if (!user) throw new PhoneProtocolError('unknown_user', 'no such user');
        const owned = await devices.listByUser(user.id);
        const latest = owned.sort((a, b) => b.lastSeenAt - a.lastSeenAt)[0];
        if (!latest) throw new PhoneProtocolError('no_device', `user ${user.username} has no registered device`);
        deviceId = latest.deviceId;
      }
      if (!input.phone) throw new PhoneProtocolError('invalid_command', 'phone is required');
      return commands.enqueue({
        id: input.id ?? newCommandId(),
        deviceId,
        phone: input.phone,
        ...(input.extra ? { extra: input.extra } : {}),
      });
    },
    async createQrToken(userId) {
      const token = generateQrToken();
      const expiresAt = clock.now() + qrTtlMs;
      await qrTokens.put(qrTokenDigest(token), userId, expiresAt, qrTtlMs);
      return { token, expiresAt };
    },
    onlineDevices: (windowMs) => listOnlineDevices(devices, clock.now(), windowMs),
    stats: () => ({ heldPolls: hub.held, claimsInFlight: hub.claimsInFlight }),
    async close() {
      hub.closeAll();
    },
  };
}

// A valid hash of a random password, so a login for an unknown user costs the same scrypt work.
const DUMMY_HASH = 'scrypt$16384$8$1$qrjg9CZXlWeSbJAg7lxOkg$DODpYOziXlfFPBzN1xuFPRfrACjKLvXk8jhSDSQa6TQ';
