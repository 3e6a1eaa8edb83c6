/** Framework-free request handed to the protocol handlers (the Express router builds one per request). */
export interface PhoneRequest {
  /** HTTP method (any case). */
  method: string;
  /** Path without the query string, e.g. `/api/phone/calls/pull/`. */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string | undefined>;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (`undefined` when there was none). */
  body: unknown;
  /** Client IP address for the login brute-force limits (the Express router passes `req.ip`). */
  ip?: string;
  /** Aborted when the client disconnects; long-polls free their waiter and timer on abort. */
  signal?: AbortSignal;
}

/** Framework-free response of a protocol handler. */
export interface PhoneResponse {
  /** HTTP status. */
  status: number;
  /** Response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  headers: Record<string, string>;
  /** JSON body; `undefined` means an empty body (204). */
  body?: unknown;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): PhoneResponse {
  return { status, headers, body };
}

export function empty(status = 204, headers: Record<string, string> = {}): PhoneResponse {
  return { status, headers };
}

export function header(req: PhoneRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
