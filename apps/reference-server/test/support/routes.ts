import { request as httpRequest } from 'node:http';
import type { Express } from 'express';

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  rawPath?: unknown;
}

export interface RouteInfo {
  method: string;
  /** Express path pattern, e.g. `/api/config/:enterpriseNumber`. */
  path: string;
}

/** Every route of the app, walked from its router stack (mounted routers included). */
export function listRoutes(app: Express): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [m, on] of Object.entries(layer.route.methods)) {
            if (on && m !== '_all') out.push({ method: m.toUpperCase(), path: `${prefix}${p}` });
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  const router = (app as unknown as { router: { stack: LayerLike[] } }).router;
  walk(router.stack, '');
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Fills path parameters (`:name` / `{name}`) with plausible values. */
export function concretePath(path: string, values: Record<string, string>, fallback = 'x1'): string {
  return path
    .replace(/\{\/?[:*]?(\w+)\}/g, (_m, name: string) => values[name] ?? fallback)
    .replace(/[:*](\w+)/g, (_m, name: string) => values[name] ?? fallback);
}

export interface RawResponse {
  status: number;
  body: string;
  json: Record<string, unknown> | undefined;
}

/**
 * A request with exactly these headers and bytes (node:http, not fetch: a server may answer 413 before reading
 * a large body, and the client must still see that answer).
 */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = httpRequest(url, { method, headers, timeout: 10_000 }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    // Writing the rest of a refused body may fail once the server has answered and closed: not our concern.
    req.on('error', (err) => {
      if (!responded) reject(err);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}
