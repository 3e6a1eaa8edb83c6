import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type Clock, type RandomSource, systemClock, type TimerHandle } from './clock.js';
import { ConfigCacheMissingPeerError, isMissingPackage } from './errors.js';
import { defaultKeyFromPayload } from './key-from-payload.js';
import { withTimeout } from './timeout.js';
import type { ConfigCacheLogger, InvalidationListener, InvalidationSource } from './types.js';

/** The part of a node-postgres `Client` the source uses (structural, so `pg` stays an optional peer). */
export interface PgClientLike {
  /** Opens the connection. */
  connect(): Promise<unknown>;
  /** Runs `LISTEN` and the heartbeat `SELECT 1`. */
  query(text: string): Promise<unknown>;
  /** Closes the connection. */
  end(): Promise<void>;
  /** A NOTIFY arrived. */
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  /** The connection failed. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** The connection ended. */
  on(event: 'end', listener: () => void): unknown;
  /** Detaches the source's listeners from an abandoned client. */
  removeAllListeners(event?: string): unknown;
}

/** Options of {@link createPgListenInvalidationSource}. */
export interface PgListenInvalidationSourceOptions {
  /** Never logged or put into an error message. */
  connectionString: string;
  /** The NOTIFY channel (quoted as an identifier, so any name is safe). */
  channel: string;
  /** Payload -> key; `undefined` invalidates everything. Default: {@link defaultKeyFromPayload}. */
  keyFromPayload?: (payload: string) => string | undefined;
  /** A `SELECT 1` on the listening connection this often detects half-open TCP (default 30 s; 0 = off). */
  heartbeatIntervalMs?: number;
  /** A heartbeat or connect slower than this counts as a dropped connection (default 10 s). */
  heartbeatTimeoutMs?: number;
  /** Reconnect delays: capped exponential with jitter, retried forever (default 500 ms → 30 s). */
  backoff?: BackoffOptions;
  /** Creates the dedicated client (default: `new pg.Client({ connectionString })`, `pg` loaded lazily). */
  createClient?: (connectionString: string) => PgClientLike | Promise<PgClientLike>;
  /** Timers for reconnects and heartbeats (default {@link systemClock}). */
  clock?: Clock;
  /** Backoff jitter (default `Math.random`). */
  random?: RandomSource;
  /** Where reconnects are reported (pino as is); default: the cache's logger handed over in `start`. */
  logger?: ConfigCacheLogger;
}

/** `LISTEN` takes an identifier, not a parameter: quote it the way PostgreSQL does. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function defaultCreateClient(connectionString: string): Promise<PgClientLike> {
  // Lazy: users of the embedded (PGlite) default never need `pg` installed.
  const pg = await importPg();
  const Client = (pg.default ?? pg).Client as new (config: { connectionString: string }) => unknown;
  return new Client({ connectionString }) as PgClientLike;
}

/** The part of the `pg` module used here (structural, so `pg` and its types stay optional). */
type PgModule = { Client?: unknown; default?: { Client?: unknown } };

/** `import('pg')`, or a {@link ConfigCacheMissingPeerError} saying to install it (retrying cannot help). */
export async function importPg(
  load: () => Promise<PgModule> = () => import('pg') as Promise<PgModule>,
): Promise<PgModule> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, 'pg')) {
      throw new ConfigCacheMissingPeerError('pg', 'createPgListenInvalidationSource (PostgreSQL LISTEN)', error);
    }
    throw error;
  }
}

/** The connection string and its password, as they could appear inside a driver's error message. */
export function connectionSecrets(connectionString: string): string[] {
  const secrets = [connectionString];
  try {
    const password = new URL(connectionString).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // Not a URL: the libpq key=value form is handled below.
  }
  const keyValue = /(?:^|\s)password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/i.exec(connectionString);
  const password = keyValue?.[1] ?? keyValue?.[2];
  if (password) secrets.push(password);
  // Longest first, so a password inside the connection string does not break the longer match.
  return [...new Set(secrets)].filter((s) => s.length >= 2).sort((a, b) => b.length - a.length);
}

/** An error's message with every secret masked: driver messages must not carry the password into logs. */
export function maskedMessage(error: unknown, secrets: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  return secrets.reduce((text, secret) => text.split(secret).join('***'), message);
}

/**
 * PostgreSQL `LISTEN` on a dedicated connection. A dropped connection is retried forever with
 * capped backoff; after every successful re-LISTEN the listener gets `onResync()`, because any
 * NOTIFY sent while we were away is lost for good.
 */
export function createPgListenInvalidationSource(options: PgListenInvalidationSourceOptions): InvalidationSource {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const keyFromPayload = options.keyFromPayload ?? defaultKeyFromPayload;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
  const backoff = options.backoff ?? {};
  const createClient = options.createClient ?? defaultCreateClient;
  // Its own logger, else the cache's (handed over in start()): a retry loop must never be silent.
  const log = () => options.logger ?? listener?.logger;
  const secrets = connectionSecrets(options.connectionString);
  const safeMessage = (error: unknown) => maskedMessage(error, secrets);

  let listener: InvalidationListener | undefined;
  let client: PgClientLike | undefined;
  let stopped = true;
  let connected = false;
  let attempt = 0;
  let reconnectTimer: TimerHandle | undefined;
  let heartbeatTimer: TimerHandle | undefined;
  /** Bumped on every (re)connect so callbacks of an old client are ignored. */
  let epoch = 0;

  const setConnected = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    listener?.onConnectionChange?.(value);
  };

  // A connect, LISTEN or heartbeat slower than this counts as a dropped connection.
  const timed = <T>(promise: Promise<T>, what: string): Promise<T> =>
    withTimeout(
      () => promise,
      heartbeatTimeoutMs,
      clock,
      new AbortController(),
      () => new Error(`${what} timed out after ${heartbeatTimeoutMs} ms`),
    );

  const dispose = (old: PgClientLike | undefined) => {
    if (!old) return;
    old.removeAllListeners();
    // Keep a late 'error' from an abandoned socket from becoming an uncaught exception.
    old.on('error', () => {});
    old.end().catch(() => {});
  };

  const dropped = (myEpoch: number, reason: string) => {
    if (stopped || myEpoch !== epoch) return;
    epoch++;
    if (heartbeatTimer !== undefined) clock.clearTimeout(heartbeatTimer);
    heartbeatTimer = undefined;
    const old = client;
    client = undefined;
    dispose(old);
    setConnected(false);
    log()?.warn({ channel: options.channel, reason }, 'config-cache: LISTEN connection lost; reconnecting');
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    if (stopped || reconnectTimer !== undefined) return;
    const delay = backoffDelay(attempt++, backoff, random);
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      void connect(false);
    }, delay);
  };

  const scheduleHeartbeat = (myEpoch: number) => {
    if (heartbeatIntervalMs <= 0) return;
    heartbeatTimer = clock.setTimeout(() => {
      heartbeatTimer = undefined;
      const current = client;
      if (stopped || myEpoch !== epoch || !current) return;
      timed(current.query('SELECT 1'), 'heartbeat').then(
        () => {
          if (myEpoch === epoch) scheduleHeartbeat(myEpoch);
        },
        (error: unknown) => dropped(myEpoch, safeMessage(error)),
      );
    }, heartbeatIntervalMs);
  };

  const connect = async (initial: boolean): Promise<boolean> => {
    if (stopped) return false;
    const myEpoch = ++epoch;
    let next: PgClientLike | undefined;
    try {
      next = await createClient(options.connectionString);
      const fresh = next;
      fresh.on('error', (error) => dropped(myEpoch, safeMessage(error)));
      fresh.on('end', () => dropped(myEpoch, 'connection ended'));
      fresh.on('notification', (message) => {
        if (myEpoch !== epoch || message.channel !== options.channel) return;
        const payload = message.payload ?? '';
        listener?.onInvalidate({ key: keyFromPayload(payload), payload });
      });
      await timed(fresh.connect(), 'connect');
      await timed(fresh.query(`LISTEN ${quoteIdentifier(options.channel)}`), 'LISTEN');
    } catch (error) {
      dispose(next);
      if (initial && error instanceof ConfigCacheMissingPeerError) {
        // Fail fast: without the driver no retry can ever succeed.
        stopped = true;
        epoch++;
        throw error;
      }
      if (myEpoch === epoch) {
        log()?.warn(
          { channel: options.channel, err: safeMessage(error) },
          'config-cache: LISTEN connect failed; retrying',
        );
        epoch++;
        scheduleReconnect();
      }
      return false;
    }
    if (stopped || myEpoch !== epoch) {
      dispose(next);
      return false;
    }
    client = next;
    attempt = 0;
    setConnected(true);
    scheduleHeartbeat(myEpoch);
    // Only the very first attempt (inside start()) precedes everything the cache holds; any later
    // success follows a gap in which notifications were lost.
    if (!initial) listener?.onResync();
    return true;
  };

  return {
    async start(next: InvalidationListener) {
      if (!stopped) return;
      listener = next;
      stopped = false;
      attempt = 0;
      // Resolve after the first attempt either way: a database that is down at boot must not
      // block startup; retries continue in the background and end in a resync.
      await connect(true);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      epoch++;
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      if (heartbeatTimer !== undefined) clock.clearTimeout(heartbeatTimer);
      reconnectTimer = undefined;
      heartbeatTimer = undefined;
      const old = client;
      client = undefined;
      setConnected(false);
      listener = undefined;
      if (old) {
        old.removeAllListeners();
        old.on('error', () => {});
        await old.end().catch(() => {});
      }
    },
  };
}
