/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Logger port in pino's argument order (fields first, message second): a pino logger is passed as is. */
export interface Logger {
  /** A rejected or failed webhook, a deprecated fallback; `obj` never holds a secret. */
  warn(obj: object, msg?: string): void;
}
export const silentLogger: Logger = { warn: () => {} };

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
