/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  /** Current time in milliseconds since the epoch. */
  now(): number;
}
/** The real clock (`Date.now()`): the default wherever a Clock is optional. */
export const systemClock: Clock = { now: () => Date.now() };

/** Logger port in pino's argument order (fields first, message second): a pino logger is passed as is. */
export interface Logger {
  /** A rejected or failed webhook, a deprecated fallback; `obj` never holds a secret. */
  warn(obj: object, msg?: string): void;
}
/** A Logger that drops everything: the default wherever a Logger is optional. */
export const silentLogger: Logger = { warn: () => {} };

/** The `fetch` signature adapters call; inject one for tests (msw) or a custom agent. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
