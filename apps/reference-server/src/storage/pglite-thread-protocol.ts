/** Messages between the server and the PGlite worker thread (`pglite-worker.ts`). */

/** A request to the worker; `tx` runs the statement inside an open transaction. */
export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'listen' | 'unlisten'; channel: string }
  | { id: number; op: 'close' };

/** A database error as plain data: its message plus PostgreSQL's fields (`code`, `constraint`, ...). */
export interface SerializedError {
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** An answer to request `id`, or a notification on a channel the server listens to. */
export type PgliteResponse = PgliteAnswer | { id: number; ok: false; error: SerializedError } | PgliteNotification;

/** A successful answer. */
export interface PgliteAnswer {
  id: number;
  ok: true;
  rows?: unknown[];
  tx?: number;
}

/** NOTIFY on a channel the server listens to. */
export interface PgliteNotification {
  notify: string;
  payload: string;
}

/** Copies an error's message and primitive own fields (structured clone would drop `code` and friends). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error), fields: {} };
  const fields: Record<string, string | number | boolean> = { name: error.name };
  for (const [k, v] of Object.entries(error)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { message: error.message, fields };
}

/** The error the caller sees: an `Error` with the database error's fields (so `err.code === '23505'` still works). */
export function deserializeError(error: SerializedError): Error {
  const { name, ...rest } = error.fields;
  const e = Object.assign(new Error(error.message), rest);
  if (typeof name === 'string') e.name = name;
  return e;
}
