import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { PhoneRequest } from './http.js';
import { createPullHandler } from './node-http.js';
import type { PhoneProtocol } from './protocol.js';

/** Settings of {@link createPhoneRouter}. */
export interface PhoneRouterOptions {
  /** Largest accepted JSON body (default `6mb`: log bundles are the biggest requests). */
  bodyLimit?: string;
}

function toQuery(query: Request['query']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

/**
 * Thin Express 5 router over the framework-free handlers. Mount it at the application root
 * (`app.use(createPhoneRouter(protocol))`): the routes carry their full paths (`/api/token/`, `/api/phone/...`).
 */
export function createPhoneRouter(protocol: PhoneProtocol, options: PhoneRouterOptions = {}): Router {
  const router = express.Router();
  const parseJson = express.json({ limit: options.bodyLimit ?? '6mb', type: ['application/json', '+json'] });

  // The long-poll skips the generic wrapper: thousands are held at once, each must stay small.
  const pull = createPullHandler(protocol);
  for (const route of protocol.routes) {
    if (route.name === 'callsPull') {
      router.get(route.path, parseJson, (req: Request, res: Response) => {
        // A held poll never continues the middleware chain: drop the router's continuation it would pin.
        (req as { next?: unknown }).next = undefined;
        pull(req, res);
      });
      continue;
    }
    const handler = async (req: Request, res: Response): Promise<void> => {
      const controller = new AbortController();
      // 'close' also fires after a normal response; only an unfinished response means the client went away.
      const onClose = (): void => {
        if (!res.writableEnded) controller.abort();
      };
      res.on('close', onClose);
      const request: PhoneRequest = {
        method: req.method,
        path: route.path,
        query: toQuery(req.query),
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        // Behind a reverse proxy set Express' `trust proxy`, or every device shares the proxy's address.
        ...(req.ip ? { ip: req.ip } : {}),
      };
      try {
        const response = await protocol.handlers[route.name](request);
        if (controller.signal.aborted || res.writableEnded) return;
        res.status(response.status).set(response.headers);
        if (response.body === undefined) res.end();
        else res.json(response.body);
      } finally {
        res.off('close', onClose);
      }
    };
    const method = route.method === 'GET' ? 'get' : 'post';
    router[method](route.path, parseJson, handler);
  }

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ detail: `JSON parse error - ${err.message ?? 'invalid JSON'}` });
    } else if (err.type === 'entity.too.large') {
      res.status(413).json({ detail: 'Request body is too large.' });
    } else if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ detail: err.message ?? 'Bad request.' });
    } else {
      next(err);
    }
  };
  router.use(onError);
  return router;
}
