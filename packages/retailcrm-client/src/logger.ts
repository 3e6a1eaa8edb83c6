/**
 * Logger port with pino's argument order (fields first, message second): a pino logger is passed as is. Fields never
 * contain the API key or the query string; they carry method, path, status, code, attempt and timings. Without
 * pino, adapt `console` once: `{ warn: (obj, msg) => console.warn(msg ?? '', obj), debug: (obj, msg) => console.debug(msg ?? '', obj) }`.
 */
export interface RetailCrmLogger {
  /** Every answer (`retailcrm response`) and every retry (`retailcrm retry`). */
  debug?(obj: object, msg?: string): void;
  /** A request that failed for good (`retailcrm request failed`). */
  warn(obj: object, msg?: string): void;
}

export const silentLogger: RetailCrmLogger = { warn() {} };
