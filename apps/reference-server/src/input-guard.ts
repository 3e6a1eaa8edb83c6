import type { Server } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.js';

/** Deepest accepted body (the form parser's own limit is 32 as well). */
export const MAX_BODY_DEPTH = 32;

/**
 * Where a value holds something no route can store: a NUL character (PostgreSQL text refuses 0x00) or nesting
 * deeper than {@link MAX_BODY_DEPTH}. Iterative, so a hostile depth cannot overflow the stack. Returns the reason
 * or undefined.
 */
export function unstorableInput(value: unknown): 'nul_character' | 'too_deep' | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'nul_character';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_BODY_DEPTH) return 'too_deep';
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return 'nul_character';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

export const unstorableRefusals = {
  nul_character: 'NUL characters are not allowed in any value',
  too_deep: `the body is nested deeper than ${MAX_BODY_DEPTH} levels`,
} as const;

/**
 * First middleware of the app: a path that is not valid percent-encoding, or a NUL anywhere in the URL, is 400
 * before any route (and any credential check) sees it.
 */
export function rejectMalformedUrl(req: Request, _res: Response, next: NextFunction): void {
  const url = req.originalUrl;
  if (/%00/i.test(url) || url.includes('\u0000')) {
    next(new HttpError(400, 'nul_character', unstorableRefusals.nul_character));
    return;
  }
  try {
    decodeURIComponent(req.path);
  } catch {
    next(new HttpError(400, 'invalid_path_encoding', 'the path is not valid percent-encoding'));
    return;
  }
  next();
}

/** After the body parsers: bodies with a NUL or absurd nesting are 400 with a code, not a database error. */
export function rejectUnstorableBody(req: Request, _res: Response, next: NextFunction): void {
  const reason = unstorableInput(req.body);
  next(reason ? new HttpError(400, reason, unstorableRefusals[reason]) : undefined);
}

/**
 * Requests Node's HTTP parser refuses (raw bytes in the URL, broken headers, oversized headers) never reach Express:
 * answer them with the same `{ok:false, error}` shape instead of Node's empty 400.
 */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const [status, code] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large'] : [400, 'malformed_request'];
    const body = JSON.stringify({ ok: false, error: code, message: 'the HTTP request could not be parsed' });
    const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
