import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestDatabase, testEnv } from '../helpers.js';
import type { FakeCrmServer } from './fake-crm-server.js';
import { allEvents, bridgeEvent, fastDeliveryEnv, postJson } from './fixtures.js';

/**
 * Starts the server in this process with fast delivery tuning, the production RetailCRM client (real HTTP to
 * `crm`), and enterprise 0367 configured and enabled. Storage: `env.DATABASE_URL`, else a fresh database on
 * TEST_DATABASE_URL (dropped on close; starts faster than PGlite), else PGlite in memory.
 */
export async function startConfiguredServer(
  crm: FakeCrmServer,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const own =
    !env.DATABASE_URL && process.env.TEST_DATABASE_URL
      ? await createTestDatabase(process.env.TEST_DATABASE_URL)
      : undefined;
  const databaseUrl = env.DATABASE_URL ?? own?.url;
  const srv = await startServer({
    config: loadConfig({
      ...testEnv,
      ...fastDeliveryEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    }),
    logger: createLogger('silent'),
    inMemory: !databaseUrl,
  });
  if (own) {
    const close = srv.close;
    srv.close = async () => {
      await close();
      await own.drop();
    };
  }
  await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
  await srv.context.service.putConfig('0367', {
    domain: crm.url,
    api_key: crm.fake.apiKey,
    enabled: true,
    events: allEvents,
  });
  await waitForEnablement(srv.url, true, 5000);
  return srv;
}

/** Polls with bridge probes until the server's enablement cache says `enabled`; returns the time it took. */
export async function waitForEnablement(url: string, enabled: boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (let n = 0; ; n++) {
    const r = await postJson(`${url}/api/events`, bridgeEvent(`probe.${Date.now()}.${n}`));
    if (r.status !== 202) throw new Error(`probe answered ${r.status}: ${JSON.stringify(r.data)}`);
    if ((r.data.ignored as string[]).includes('retailcrm') === enabled) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`enablement still ${!enabled} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface StatsBody {
  config_cache: { listenerConnected: boolean | null; resyncs: number };
  enablement_cache: { listenerConnected: boolean | null; resyncs: number };
  telephony: { delivered: number; deadLettered: number };
  delivery: { queue: string; breakers: Record<string, string>; queue_stats: Record<string, number> };
  dead_letters: number | null;
}

export async function getStats(url: string): Promise<StatsBody> {
  return (await (await fetch(`${url}/stats`)).json()) as StatsBody;
}
