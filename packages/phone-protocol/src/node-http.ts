import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { unescape as unescapeQuery } from 'node:querystring';
import type { PhoneRequest, PhoneResponse } from './http.js';
import type { HeldPoll } from './long-poll.js';
import type { PhoneProtocol, PullTarget } from './protocol.js';

/** Path of the long-poll route (the Android client's, trailing slash included). */
export const PULL_PATH = '/api/phone/calls/pull/';

/** The only query fields the pull reads; anything else in the query string is skipped unparsed. */
const PULL_FIELDS = new Set(['device_id', 'wait_seconds']);

/**
 * The pull's query fields from a raw URL, decoded like `querystring.parse` (Express' default parser):
 * `+` is a space, a malformed escape stays as sent, the first of a repeated field wins. Scans the string in place
 * and decodes only what carries an escape (a device's poll usually has none).
 */
export function parsePullQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  let start = url.indexOf('?') + 1;
  if (start === 0) return query;
  const end = url.length;
  while (start <= end) {
    let next = url.indexOf('&', start);
    if (next < 0) next = end;
    let eq = url.indexOf('=', start);
    if (eq < 0 || eq > next) eq = next;
    const name = decode(url, start, eq);
    if (PULL_FIELDS.has(name) && !(name in query)) query[name] = eq < next ? decode(url, eq + 1, next) : '';
    start = next + 1;
  }
  return query;
}

function decode(url: string, from: number, to: number): string {
  const text = url.slice(from, to);
  if (!text.includes('%') && !text.includes('+')) return text;
  return unescapeQuery(text.includes('+') ? text.replaceAll('+', ' ') : text);
}

const kHeld = Symbol('callbridge.heldPull');
type TrackedResponse = ServerResponse & { [kHeld]?: HeldPoll<PullTarget> | undefined };

/** The per-poll state of this adapter: the response to write and the handler's fixed extra headers. */
class NodePullTarget implements PullTarget {
  constructor(
    readonly res: TrackedResponse,
    readonly headers: OutgoingHttpHeaders | undefined,
  ) {}
  reply(response: PhoneResponse): void {
    this.res[kHeld] = undefined;
    writeResponse(this.res, response, this.headers);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a protocol response as one head and body (a single socket write). `headers` are sent first (fixed headers
 * a framework's middleware would have set, e.g. security headers); the response's own headers win.
 */
export function writeResponse(res: ServerResponse, response: PhoneResponse, headers?: OutgoingHttpHeaders): void {
  if (res.writableEnded || res.destroyed) return;
  const own = headers ? withFixedHeaders(headers, response.headers) : response.headers;
  if (response.body === undefined) {
    res.writeHead(response.status, own);
    res.end();
    return;
  }
  const body = JSON.stringify(response.body);
  res.writeHead(response.status, { ...own, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The fixed headers, then the response's own replacing any of the same name whatever its letter case. */
function withFixedHeaders(fixed: OutgoingHttpHeaders, own: Record<string, string>): OutgoingHttpHeaders {
  const merged: OutgoingHttpHeaders = { ...fixed };
  for (const name in own) {
    const lower = name.toLowerCase();
    for (const key in merged) if (key !== name && key.toLowerCase() === lower) delete merged[key];
    merged[name] = own[name];
  }
  return merged;
}

/** Options of {@link createPullHandler}. */
export interface PullHandlerOptions {
  /**
   * Headers written with every answer, computed once: what the middleware in front of other routes would set
   * (security headers), so a pull served before the framework answers with the same headers.
   */
  headers?: OutgoingHttpHeaders;
}

/**
 * Handler for `GET /api/phone/calls/pull/` straight on node:http objects (Express passes them through unchanged):
 * no framework request object, no AbortSignal, no closure or promise kept per poll. While a poll is held the
 * process keeps only the socket, the request/response pair, one small waiter record and its timer. Route to it
 * yourself (`createServer((req, res) => req.url?.startsWith(PULL_PATH) ? pull(req, res) : app(req, res))`) or use
 * the Express router, which does.
 */
export function createPullHandler(
  protocol: PhoneProtocol,
  options: PullHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const headers = options.headers;
  // 'close' also fires after a normal response; only an unfinished one means the client went away.
  // One listener for every poll (`this` is the response) instead of a closure per poll.
  function onClose(this: TrackedResponse): void {
    const held = this[kHeld];
    if (held && !this.writableEnded) protocol.cancelPull(held);
  }
  // One continuation for every poll: the held poll carries our target, and the target its response.
  const onPulled = (held: HeldPoll<PullTarget> | undefined): void => {
    if (!held) return;
    const res = (held.target as NodePullTarget).res;
    if (res.writableEnded) return;
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      // The client left while we authenticated: its 'close' has already fired.
      protocol.cancelPull(held);
      return;
    }
    res[kHeld] = held;
    res.on('close', onClose);
  };
  const onHeldFailure = (): void => {
    // pull() answers its own failures (500); nothing is left to do here.
  };

  return (req, res) => {
    const request: PhoneRequest = {
      method: 'GET',
      path: PULL_PATH,
      query: parsePullQuery(req.url ?? ''),
      headers: req.headers,
      body: undefined,
    };
    protocol.pull(request, new NodePullTarget(res as TrackedResponse, headers)).then(onPulled, onHeldFailure);
  };
}
