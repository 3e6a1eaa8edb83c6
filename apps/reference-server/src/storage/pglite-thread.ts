import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  deserializeError,
  type PgliteAnswer,
  type PgliteRequest,
  type PgliteResponse,
} from './pglite-thread-protocol.js';
import type { SqlDriver, SqlQueryable } from './sql-driver.js';
import { SqlStorage } from './sql-storage.js';

/** What LISTEN-based cache invalidation needs (config-cache's `PGliteLike`). */
export interface PgliteListener {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

type Pending = { resolve(r: PgliteAnswer): void; reject(e: Error): void };
// Distributive Omit: keeps each request variant's own fields.
type RequestBody = PgliteRequest extends infer R ? (R extends PgliteRequest ? Omit<R, 'id'> : never) : never;

/**
 * The worker script next to this module once built (`dist/pglite-worker.js`); `undefined` when running from
 * source (tests), where PGlite stays on the main thread.
 */
export function pgliteWorkerScript(): URL | undefined {
  const url = new URL('./pglite-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * Embedded storage with PGlite in a worker thread: its WebAssembly work (every statement, commits included)
 * runs beside the HTTP event loop instead of stalling it. Same SQL, same durability: a query resolves after
 * the worker's PGlite has run it (a COMMIT included).
 */
export async function createPgliteThreadStorage(
  dataDir: string | undefined,
  script: URL,
): Promise<{ storage: SqlStorage; listener: PgliteListener }> {
  const worker = new Worker(script, { workerData: { dataDir } });
  const pending = new Map<number, Pending>();
  const channels = new Map<string, Set<(payload: string) => void>>();
  let nextId = 1;
  let failure: Error | undefined;

  const failAll = (error: Error) => {
    failure = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (m: PgliteResponse) => {
    if ('notify' in m) {
      for (const cb of channels.get(m.notify) ?? []) cb(m.payload);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m);
    else p.reject(deserializeError(m.error));
  });
  worker.on('error', (error) => failAll(error instanceof Error ? error : new Error(String(error))));
  worker.on('exit', (code) => failAll(new Error(`the PGlite worker exited (code ${code}); restart the server`)));

  const call = (body: RequestBody) =>
    new Promise<PgliteAnswer>((resolve, reject) => {
      if (failure) {
        reject(failure);
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id });
    });

  const queryable = (tx?: number): SqlQueryable => ({
    async query<T>(sql: string, params?: readonly unknown[]) {
      const r = await call({ op: 'query', sql, params: params ? [...params] : undefined, tx });
      return (r.rows ?? []) as T[];
    },
    async exec(sql: string) {
      await call({ op: 'exec', sql, tx });
    },
  });

  await ready;
  const driver: SqlDriver = {
    kind: 'pglite',
    ...queryable(),
    async transaction(fn) {
      const { tx } = await call({ op: 'begin' });
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(queryable(tx));
      } catch (error) {
        await call({ op: 'rollback', tx: tx as number }).catch(() => undefined);
        throw error;
      }
      await call({ op: 'commit', tx: tx as number });
      return result;
    },
    async close() {
      if (!failure) await call({ op: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
  const listener: PgliteListener = {
    async listen(channel, callback) {
      let set = channels.get(channel);
      if (!set) {
        set = new Set();
        channels.set(channel, set);
        await call({ op: 'listen', channel });
      }
      set.add(callback);
      return async () => {
        set.delete(callback);
        if (set.size === 0 && channels.get(channel) === set) {
          channels.delete(channel);
          await call({ op: 'unlisten', channel }).catch(() => undefined);
        }
      };
    },
  };
  const storage = new SqlStorage(driver);
  await storage.migrate();
  return { storage, listener };
}
