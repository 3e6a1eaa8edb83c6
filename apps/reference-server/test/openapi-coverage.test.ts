import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testEnv } from './helpers.js';
import { listRoutes } from './support/routes.js';

/** Express pattern -> OpenAPI path: `:name` and `{/:name}` become `{name}`. */
const toOpenApiPath = (path: string) => path.replace(/\{\/?[:*](\w+)\}/g, '/{$1}').replace(/[:*](\w+)/g, '{$1}');

/** Mounted routes that are not API operations (the admin page redirect, served as static files). */
const NOT_API = new Set(['GET /retailcrm-admin']);

describe('the OpenAPI document lists every mounted route', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
      logger: createLogger('silent'),
      inMemory: true,
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('every Express route (method and path) has an operation in /openapi.json', async () => {
    const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = listRoutes(srv.context.app).filter((r) => !NOT_API.has(`${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes
      .map((r) => ({ method: r.method.toLowerCase(), path: toOpenApiPath(r.path) }))
      .filter((r) => doc.paths[r.path]?.[r.method] === undefined)
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
