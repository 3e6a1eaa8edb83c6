import type { ConfigCacheLoader } from '../src/index.js';
import { eventually as poll } from '../src/testing/eventually.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader over a mutable map that records every call and can be paused per call. */
export class FakeLoader<V> implements ConfigCacheLoader<V> {
  readonly data = new Map<string, V>();
  readonly loads: string[] = [];
  loadAllCalls = 0;
  signals: AbortSignal[] = [];
  /** When set, the next load/loadAll waits for this gate (consumed once). */
  gates: Array<Deferred<void>> = [];
  allGates: Array<Deferred<void>> = [];
  failNext: unknown[] = [];
  failNextAll: unknown[] = [];
  running = 0;
  maxRunning = 0;

  async load(key: string, signal: AbortSignal): Promise<V | undefined> {
    this.loads.push(key);
    this.signals.push(signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      // Read first, deliver later: like a database row that is read, then delayed in transit.
      const value = this.data.get(key);
      const gate = this.gates.shift();
      if (gate) await gate.promise;
      if (this.failNext.length > 0) throw this.failNext.shift();
      return value;
    } finally {
      this.running--;
    }
  }

  async loadAll(signal: AbortSignal): Promise<Iterable<readonly [string, V]>> {
    this.loadAllCalls++;
    this.signals.push(signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const rows = [...this.data.entries()];
      const gate = this.allGates.shift();
      if (gate) await gate.promise;
      if (this.failNextAll.length > 0) throw this.failNextAll.shift();
      return rows;
    } finally {
      this.running--;
    }
  }
}

/** Lets pending promise callbacks run (fake timers do not advance on their own). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Runs SQL and returns the rows (node-postgres and PGlite differ only in how they are called). */
export type RowsQuery = (text: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** The reference server's loader shape over `enterprises(number, integrations_config)`, for the integration tests. */
export function enterprisesLoader<V>(rows: RowsQuery): ConfigCacheLoader<V> {
  return {
    async load(key) {
      const found = await rows('SELECT integrations_config FROM enterprises WHERE number = $1', [key]);
      return found[0]?.integrations_config as V | undefined;
    },
    async loadAll() {
      const all = await rows('SELECT number, integrations_config FROM enterprises');
      return all.map((row) => [String(row.number), row.integrations_config as V] as const);
    },
  };
}

export const CONFIG_CHANNEL = 'integrations_config_changed';

/** The reference server's table and its trigger: `pg_notify` inside the saving transaction is delivered after COMMIT. */
export const ENTERPRISES_SCHEMA_SQL = `
  CREATE TABLE enterprises (number text PRIMARY KEY, integrations_config jsonb NOT NULL);
  CREATE FUNCTION notify_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${CONFIG_CHANNEL}', json_build_object(
      'enterprise_number', COALESCE(NEW.number, OLD.number), 'integration_type', 'retailcrm')::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER enterprises_config_changed AFTER INSERT OR UPDATE OR DELETE ON enterprises
    FOR EACH ROW EXECUTE FUNCTION notify_config_changed();
`;

/** Polls until `check` passes (real time: the integration tests talk to a real database). */
export const eventually = (check: () => void | Promise<void>, timeoutMs = 8_000): Promise<void> =>
  poll(check, timeoutMs, 20);

/** `url` pointing at another database (and, optionally, tagged with an application name visible in pg_stat_activity). */
export function withDatabase(url: string, database: string, applicationName?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (applicationName) parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

/** Upserts (or, for `undefined`, deletes) one enterprise row: the trigger sends the NOTIFY. */
export async function writeEnterprise(
  rows: RowsQuery,
  number: string,
  config: Record<string, unknown> | undefined,
): Promise<void> {
  if (config === undefined) {
    await rows('DELETE FROM enterprises WHERE number = $1', [number]);
    return;
  }
  await rows(
    `INSERT INTO enterprises (number, integrations_config) VALUES ($1, $2)
     ON CONFLICT (number) DO UPDATE SET integrations_config = EXCLUDED.integrations_config`,
    [number, config],
  );
}
