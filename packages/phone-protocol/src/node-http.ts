import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * `+` is a space, a malformed escape stays as sent, the first of a repeated field wins.
 */
export function parsePullQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  const start = url.indexOf('?');
  if (start < 0) return query;
  for (const pair of url.slice(start + 1).split('&')) {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (PULL_FIELDS.has(name) && !(name in query)) query[name] = eq < 0 ? '' : decode(pair.slice(eq + 1));
  }
  return query;
}

function decode(text: string): string {
  return unescapeQuery(text.includes('+') ? text.replaceAll('+', ' ') : text);
}

const kHeld = Symbol('callbridge.heldPull');
type TrackedResponse = ServerResponse & { [kHeld]?: HeldPoll<PullTarget> | undefined };

/** The per-poll state of this adapter: the response to write and, while held, the poll to cancel on disconnect. */
class NodePullTarget implements PullTarget {
  constructor(readonly res: TrackedResponse) {}
  reply(response: PhoneResponse): void {
    this.res[kHeld] = undefined;
    writeResponse(this.res, response);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a protocol response; a 204 without extra headers is a fixed head with no body. */
export function writeResponse(res: ServerResponse, response: PhoneResponse): void {
  if (res.writableEnded || res.destroyed) return;
  if (response.body === undefined) {
    res.writeHead(response.status, response.headers);
    res.end();
    return;
  }
  const body = JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Handler for `GET /api/phone/calls/pull/` straight on node:http objects (Express passes them through unchanged):
 * no framework request object, no AbortSignal, no promise held per poll. While a poll is held the process keeps
 * only the socket, the request/response pair, one small waiter record and its timer. Route to it yourself
 * (`createServer((req, res) => req.url?.startsWith(PULL_PATH) ? pull(req, res) : app(req, res))`) or use the
 * Express router, which does.
 */
export function createPullHandler(protocol: PhoneProtocol): (req: IncomingMessage, res: ServerResponse) => void {
  // 'close' also fires after a normal response; only an unfinished one means the client went away.
  // One listener for every poll (`this` is the response) instead of a closure per poll.
  function onClose(this: TrackedResponse): void {
    const held = this[kHeld];
    if (held && !this.writableEnded) protocol.cancelPull(held);
  }
  const onHeldFailure = (): void => {
    // pull() answers its own failures (500); nothing is left to do here.
  };

  return (req, res) => {
    const tracked = res as TrackedResponse;
    const request: PhoneRequest = {
      method: 'GET',
      path: PULL_PATH,
      query: parsePullQuery(req.url ?? ''),
      headers: req.headers,
      body: undefined,
    };
    protocol.pull(request, new NodePullTarget(tracked)).then((held) => {
      if (!held || res.writableEnded) return;
      if (req.socket.destroyed) {
        // The client left while we authenticated: its 'close' has already fired.
        protocol.cancelPull(held);
        return;
      }
      tracked[kHeld] = held;
      tracked.on('close', onClose);
    }, onHeldFailure);
  };
}
