/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Minimal structured logger; secrets are never passed to it. */
export interface Logger {
  warn(message: string, fields?: Record<string, unknown>): void;
}
export const silentLogger: Logger = { warn: () => {} };

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
