/** Logging port. Fields never contain the API key; they carry method, path, status, attempt, timings. */
export interface RetailCrmLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: RetailCrmLogger = {};
