import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeTelegramWorker, createFakeWhatsAppWeb } from '@callbridge/messenger-contract/testing';
import type { RequestHandler } from 'msw';
import { setupServer } from 'msw/node';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { testEnv } from '../helpers.js';

export type Json = Record<string, unknown>;
export const adminHeaders = { 'x-admin-token': testEnv.ADMIN_TOKEN };

/**
 * An in-process hub for end-to-end messenger tests: msw fakes of tgworker and waweb (plus `handlers`), a server on
 * PGlite with the outbox on, provider tokens of `tenants` and their WhatsApp sessions scanned.
 */
export function messengerHub(options: {
  tenants: number[];
  env?: Record<string, string>;
  handlers?: RequestHandler[];
  logger?: Logger;
}) {
  const tg = createFakeTelegramWorker({ adminToken: testEnv.ADMIN_TOKEN });
  const wa = createFakeWhatsAppWeb({ tenants: options.tenants });
  const msw = setupServer(...tg.handlers, ...wa.handlers, ...(options.handlers ?? []));
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-hub-'));
  const tokens: Record<number, string> = {};
  let srv: RunningServer | undefined;
  const server = (): RunningServer => {
    if (!srv) throw new Error('hub not started');
    return srv;
  };

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(server().url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, data: (await res.json()) as Json };
  }

  return {
    tg,
    wa,
    tokens,
    call,
    server,
    async start(): Promise<void> {
      msw.listen({ onUnhandledRequest: 'bypass' });
      srv = await startServer({
        config: loadConfig({
          ...testEnv,
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          OUTBOX_ENABLED: 'true',
          TGWORKER_BASE_URL: tg.baseUrl,
          WAWEB_URL_TEMPLATE: 'http://waweb-{tenant}.test:9001',
          WAWEB_ADMIN_TOKEN: wa.authToken,
          ...options.env,
        }),
        logger: options.logger ?? createLogger('silent'),
        inMemory: true,
      });
      for (const tenant of options.tenants) {
        const r = await call('GET', `/admin/provider-token/${tenant}`, undefined, adminHeaders);
        tokens[tenant] = r.data.provider_token as string;
        wa.scan(tenant);
      }
    },
    async stop(): Promise<void> {
      msw.close();
      await srv?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
