import { connect as netConnect, type Socket } from 'node:net';
import { backoffDelay } from '../backoff.js';
import { TelephonyEventsError } from '../errors.js';
import { type Logger, silentLogger } from '../ports.js';
import { AmiActionError, AmiAuthError, AmiConnectionError, AmiTimeoutError } from './errors.js';
import { type AmiMessage, AmiParser, field, serializeAction } from './protocol.js';

/** Fields of one AMI action; `undefined` fields are left out, an array repeats its key (e.g. `Variable`). */
export type AmiFields = Record<string, string | number | boolean | readonly string[] | undefined>;

/** Where and how {@link createAmiClient} connects. */
export interface AmiClientOptions {
  /** Asterisk host name or IP address. */
  host: string;
  /** Default 5038. */
  port?: number;
  /** AMI user (a `[section]` of `manager.conf`). */
  username: string;
  /** That user's `secret`; never logged. */
  secret: string;
  /** Login `Events:` — false (default) = `off` (actions only), true = `on`, or an event-class mask such as `call`. */
  events?: boolean | string;
  /** Per-action response timeout (default 5000 ms). */
  actionTimeoutMs?: number;
  /** TCP connect + banner timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Heartbeat: a `Ping` every N ms; no answer => the connection is dropped and re-established (default 15 000; 0 = off). */
  pingIntervalMs?: number;
  /** Reconnect delay n = min(maxDelayMs, initialDelayMs × 2^n) × rand(½, 1); false = do not reconnect. */
  reconnect?:
    | {
        /** Base of the first reconnect delay, ms (default 500). */
        initialDelayMs?: number;
        /** Cap of the un-jittered reconnect delay, ms (default 30 000). */
        maxDelayMs?: number;
      }
    | false;
  /** Source of the reconnect jitter, in [0, 1) (default `Math.random`; fixed in tests). */
  random?: () => number;
  /** Receives reconnect and heartbeat warnings and listener errors (default: silent). */
  logger?: Logger;
}

/** A change of the AMI connection, as {@link AmiClient.onStatus} reports it. */
export type AmiStatus =
  | {
      /** Logged in. */
      state: 'connected';
      /** Asterisk's greeting line, e.g. `Asterisk Call Manager/7.0.3`. */
      banner: string;
    }
  | {
      /** A logged-in connection was lost. */
      state: 'disconnected';
      /** Why, in words (socket error, missed ping, closed by client). */
      reason: string;
    }
  | {
      /** The next connect attempt is scheduled. */
      state: 'reconnecting';
      /** Consecutive failed attempts so far, from 1. */
      attempt: number;
      /** Wait before the attempt, ms. */
      delayMs: number;
    }
  | {
      /** Asterisk refused the login; the client stopped and will not retry. */
      state: 'auth_failed';
      /** Asterisk's `Message`, or why the credentials could not be sent. */
      message: string;
    }
  | {
      /** `close()` was called; final. */
      state: 'closed';
    };

/** An AMI `Redirect`: moves a live channel to another place in the dialplan. */
export interface RedirectParams {
  /** The channel to move, e.g. `PJSIP/trunk-00000012`. */
  channel: string;
  /** Target extension. */
  exten: string;
  /** Target dialplan context. */
  context: string;
  /** Target priority (default 1). */
  priority?: number;
  /** Optional second leg (e.g. the bridged peer), redirected together with the first. */
  extraChannel?: string;
  /** Extension for the second leg (default `exten`). */
  extraExten?: string;
  /** Context for the second leg (default `context`). */
  extraContext?: string;
  /** Priority for the second leg (default `priority`, then 1). */
  extraPriority?: number;
}

/** An AMI `Originate`: places a call from `channel` to a dialplan target or an application. */
export interface OriginateParams {
  /** What to call first, e.g. `PJSIP/151` or `Local/151@from-internal`. */
  channel: string;
  /** Dialplan target once the first leg answers (with `context` and `priority`)... */
  exten?: string;
  /** Dialplan context of `exten`. */
  context?: string;
  /** Priority of `exten` (default 1 when `exten` is set). */
  priority?: number;
  /** ...or an application instead of the dialplan. */
  application?: string;
  /** Arguments of `application`. */
  data?: string;
  /** Ring time of the first leg in ms (AMI `Timeout`). */
  timeoutMs?: number;
  /** Caller ID the first leg sees, e.g. `"Shop" <375291234567>`. */
  callerId?: string;
  /** CDR account code of the call. */
  account?: string;
  /** Channel variables set on the new channel (AMI `Variable: k=v`). */
  variables?: Record<string, string>;
  /** Default true: respond at once and report the outcome in an `OriginateResponse` event. */
  async?: boolean;
  /** Unique id to give the new channel, so its events can be matched before the answer. */
  channelId?: string;
}

/** A connection to Asterisk's manager interface that reconnects by itself; see {@link createAmiClient}. */
export interface AmiClient {
  /** Connects and logs in; resolves once logged in (retrying with backoff), rejects on bad credentials or close(). */
  connect(): Promise<void>;
  /** Sends an action with a fresh ActionID; resolves with its `Response: Success` message. */
  action(fields: AmiFields, options?: { timeoutMs?: number }): Promise<AmiMessage>;
  /** Sends `Ping`; resolves on Asterisk's answer, rejects like any action. */
  ping(): Promise<void>;
  /** Sends `Redirect`; resolves with Asterisk's success response. */
  redirect(params: RedirectParams): Promise<AmiMessage>;
  /** Sends `Originate` (async by default); resolves with Asterisk's success response, not the call's outcome. */
  originate(params: OriginateParams): Promise<AmiMessage>;
  /** Subscribes to AMI events (needs the `events` option); returns the unsubscribe function. */
  onEvent(listener: (event: AmiMessage) => void): () => void;
  /** Subscribes to connection changes; returns the unsubscribe function. */
  onStatus(listener: (status: AmiStatus) => void): () => void;
  /** Whether a connection is open and logged in now. */
  isConnected(): boolean;
  /** Logs off (1 s at most), drops the connection, stops reconnecting and rejects pending actions. */
  close(): Promise<void>;
}

const isInvalidField = (error: unknown): error is TelephonyEventsError =>
  error instanceof TelephonyEventsError && error.code === 'ami_invalid_field';

interface Pending {
  action: string;
  resolve: (message: AmiMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A small Asterisk Manager Interface client over TCP (no maintained npm AMI client exists). */
export function createAmiClient(options: AmiClientOptions): AmiClient {
  const port = options.port ?? 5038;
  const actionTimeoutMs = options.actionTimeoutMs ?? 5000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const pingIntervalMs = options.pingIntervalMs ?? 15_000;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const reconnect = options.reconnect === false ? undefined : (options.reconnect ?? {});
  const eventsValue = options.events === true ? 'on' : options.events ? options.events : 'off';

  const eventListeners = new Set<(event: AmiMessage) => void>();
  const statusListeners = new Set<(status: AmiStatus) => void>();
  const pending = new Map<string, Pending>();
  let socket: Socket | undefined;
  let loggedIn = false;
  let closed = false;
  let started = false;
  let failures = 0;
  let actionCounter = 0;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const connectionTag = random().toString(36).slice(2, 8);

  const emitStatus = (status: AmiStatus) => {
    for (const listener of statusListeners) {
      try {
        listener(status);
      } catch (error) {
        logger.error({ err: String(error) }, 'AMI status listener threw');
      }
    }
  };
  const settleWaiters = (error?: Error) => {
    const list = waiters;
    waiters = [];
    for (const w of list) error ? w.reject(error) : w.resolve();
  };

  const send = (sock: Socket, fields: AmiFields, timeoutMs: number): Promise<AmiMessage> => {
    const actionName = String(fields.Action ?? 'action');
    const actionId = `${connectionTag}-${++actionCounter}`;
    let payload: string;
    try {
      payload = serializeAction({ ...fields, ActionID: actionId });
    } catch (error) {
      // A typed rejection, never a synchronous throw (this also runs inside the socket's data handler).
      return Promise.reject(error);
    }
    return new Promise<AmiMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(actionId);
        reject(new AmiTimeoutError(actionName, timeoutMs));
      }, timeoutMs);
      pending.set(actionId, { action: actionName, resolve, reject, timer });
      sock.write(payload);
    });
  };

  const onMessage = (message: AmiMessage) => {
    const actionId = field(message, 'ActionID');
    const response = field(message, 'Response');
    // An event may carry Response + ActionID too (e.g. OriginateResponse): `Event` decides.
    if (field(message, 'Event') === undefined && response !== undefined && actionId !== undefined) {
      const entry = pending.get(actionId);
      if (!entry) return; // late answer to a timed-out action
      pending.delete(actionId);
      clearTimeout(entry.timer);
      if (response.toLowerCase() === 'error') {
        entry.reject(new AmiActionError(entry.action, field(message, 'Message') ?? 'error', message));
      } else entry.resolve(message);
      return;
    }
    if (field(message, 'Event') !== undefined) {
      for (const listener of eventListeners) {
        try {
          listener(message);
        } catch (error) {
          logger.error({ err: String(error) }, 'AMI event listener threw');
        }
      }
    }
  };

  const dropConnection = (sock: Socket, reason: string) => {
    if (socket !== sock) return;
    socket = undefined;
    const wasLoggedIn = loggedIn;
    loggedIn = false;
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = undefined;
    for (const [id, entry] of pending) {
      clearTimeout(entry.timer);
      entry.reject(new AmiConnectionError(`AMI connection lost during ${entry.action}: ${reason}`));
      pending.delete(id);
    }
    sock.destroy();
    if (wasLoggedIn) emitStatus({ state: 'disconnected', reason });
    if (!closed) scheduleReconnect(reason);
  };

  const scheduleReconnect = (reason: string) => {
    if (!reconnect) {
      settleWaiters(new AmiConnectionError(`AMI connection failed: ${reason}`));
      return;
    }
    failures++;
    const delayMs = Math.round(
      backoffDelay(failures, {
        initialMs: reconnect.initialDelayMs ?? 500,
        maxMs: reconnect.maxDelayMs ?? 30_000,
        random,
      }),
    );
    emitStatus({ state: 'reconnecting', attempt: failures, delayMs });
    logger.warn({ reason, delayMs, attempt: failures }, 'AMI reconnecting');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      open();
    }, delayMs);
  };

  const open = () => {
    if (closed) return;
    const sock = netConnect({ host: options.host, port });
    socket = sock;
    sock.setEncoding('utf8');
    sock.setNoDelay(true);
    const connectTimer = setTimeout(() => dropConnection(sock, 'connect timeout'), connectTimeoutMs);
    const parser = new AmiParser((banner) => {
      clearTimeout(connectTimer);
      if (!banner.startsWith('Asterisk Call Manager')) logger.warn({ banner }, 'unexpected AMI banner');
      send(
        sock,
        { Action: 'Login', Username: options.username, Secret: options.secret, Events: eventsValue },
        actionTimeoutMs,
      )
        .then(() => {
          if (socket !== sock) return;
          loggedIn = true;
          failures = 0;
          emitStatus({ state: 'connected', banner });
          if (pingIntervalMs > 0) pingTimer = setInterval(() => heartbeat(sock), pingIntervalMs);
          settleWaiters();
        })
        .catch((error: Error) => {
          if (error instanceof AmiActionError || isInvalidField(error)) {
            // Wrong (or unsendable) credentials do not heal by retrying; stop instead of hammering the PBX.
            const authError = new AmiAuthError(
              error instanceof AmiActionError ? (field(error.response, 'Message') ?? 'rejected') : error.message,
            );
            emitStatus({ state: 'auth_failed', message: authError.message });
            closed = true;
            socket = undefined;
            sock.destroy();
            settleWaiters(authError);
            return;
          }
          dropConnection(sock, error.message);
        });
    }, onMessage);
    sock.on('data', (chunk: string) => parser.push(chunk));
    sock.on('error', (error) => {
      clearTimeout(connectTimer);
      dropConnection(sock, error.message);
    });
    sock.on('close', () => {
      clearTimeout(connectTimer);
      dropConnection(sock, 'socket closed');
    });
  };

  const heartbeat = (sock: Socket) => {
    send(sock, { Action: 'Ping' }, Math.min(actionTimeoutMs, pingIntervalMs)).catch((error: Error) => {
      logger.warn({ err: error.message }, 'AMI heartbeat failed; reconnecting');
      dropConnection(sock, 'heartbeat failed');
    });
  };

  const client: AmiClient = {
    connect() {
      if (closed) return Promise.reject(new AmiConnectionError('AMI client is closed'));
      if (loggedIn) return Promise.resolve();
      const promise = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      if (!started) {
        started = true;
        open();
      }
      return promise;
    },
    action(fields, actionOptions) {
      const sock = socket;
      if (!sock || !loggedIn) return Promise.reject(new AmiConnectionError('AMI is not connected'));
      return send(sock, fields, actionOptions?.timeoutMs ?? actionTimeoutMs);
    },
    async ping() {
      await client.action({ Action: 'Ping' });
    },
    redirect(params) {
      return client.action({
        Action: 'Redirect',
        Channel: params.channel,
        Exten: params.exten,
        Context: params.context,
        Priority: params.priority ?? 1,
        ExtraChannel: params.extraChannel,
        ExtraExten: params.extraChannel ? (params.extraExten ?? params.exten) : undefined,
        ExtraContext: params.extraChannel ? (params.extraContext ?? params.context) : undefined,
        ExtraPriority: params.extraChannel ? (params.extraPriority ?? params.priority ?? 1) : undefined,
      });
    },
    originate(params) {
      const variables = Object.entries(params.variables ?? {}).map(([k, v]) => `${k}=${v}`);
      return client.action({
        Action: 'Originate',
        Channel: params.channel,
        Exten: params.exten,
        Context: params.context,
        Priority: params.exten ? (params.priority ?? 1) : params.priority,
        Application: params.application,
        Data: params.data,
        Timeout: params.timeoutMs,
        CallerID: params.callerId,
        Account: params.account,
        ChannelId: params.channelId,
        Variable: variables.length ? variables : undefined,
        Async: (params.async ?? true) ? 'true' : 'false',
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    isConnected: () => loggedIn,
    async close() {
      if (closed && !socket) return;
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const sock = socket;
      if (sock && loggedIn) {
        await send(sock, { Action: 'Logoff' }, 1000).catch(() => undefined);
      }
      if (sock) dropConnection(sock, 'closed by client');
      settleWaiters(new AmiConnectionError('AMI client closed'));
      emitStatus({ state: 'closed' });
    },
  };
  return client;
}
