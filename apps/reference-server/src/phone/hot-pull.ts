import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createPullHandler, type PhoneProtocol, PULL_PATH } from '@callbridge/phone-protocol';
import type { Logger } from 'pino';
import { redactUrl } from '../logger.js';
import { type Metrics, requestCounter } from '../metrics.js';

export interface HotPullOptions {
  protocol: PhoneProtocol;
  metrics: Metrics;
  logger: Logger;
  /** Headers every answer carries (the security headers the general stack would add), computed once. */
  headers: OutgoingHttpHeaders;
}

const kStarted = Symbol('callbridge.pullStarted');
type TimedResponse = ServerResponse & { [kStarted]?: number };

/**
 * The phone long-poll (`GET /api/phone/calls/pull/`) served in front of Express: thousands are held at once, and
 * the general stack's per-request work (router walk, middleware closures, `req.query`) is kept off every one of
 * them. Same handler as the phone router's route, same headers, same metrics and request log. Returns `false`
 * (nothing consumed) for anything it does not serve identically, which then goes through Express as before:
 * other methods (HEAD), other spellings of the path (no trailing slash, other letter case), URLs with `%00` (the
 * general stack's guard answers them) and requests with a body (the phone router parses and may refuse it).
 */
export function createHotPull(options: HotPullOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { metrics, logger } = options;
  const pull = createPullHandler(options.protocol, { headers: options.headers });
  // The route label the Express stack gives this route (router mounted at the root).
  const route = PULL_PATH;
  const duration = metrics.httpDuration.labels({ method: 'GET', route });
  const counterFor = requestCounter(metrics, 'GET', route);

  // One listener for every poll (`this` is the response): 'finish' fires once the answer is handed to the socket,
  // as in the general stack (a client that left before its answer is counted by neither).
  function onFinish(this: TimedResponse): void {
    const seconds = (performance.now() - (this[kStarted] ?? 0)) / 1000;
    counterFor(this.statusCode).inc();
    duration.observe(seconds);
    if (logger.isLevelEnabled('debug')) {
      const url = redactUrl(this.req.url ?? '');
      logger.debug({ method: 'GET', url, status: this.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    }
  }

  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    if (!url.startsWith(PULL_PATH) || (url.length > PULL_PATH.length && url[PULL_PATH.length] !== '?')) return false;
    if (/%00/i.test(url)) return false;
    const length = req.headers['content-length'];
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) return false;
    (res as TimedResponse)[kStarted] = performance.now();
    res.on('finish', onFinish);
    pull(req, res);
    return true;
  };
}
