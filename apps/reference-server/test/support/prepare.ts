import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import { testEnv } from '../helpers.js';
import { allEvents } from './fixtures.js';

/**
 * Configures enterprise 0367 (PBX token `pbx-0367`, RetailCRM at `crm`, delivery enabled) in the storage a server
 * child process will open: `env` holds its `DATA_DIR` (PGlite on disk) or `DATABASE_URL`.
 */
export async function prepareStorage(env: Record<string, string>, crm: { url: string; apiKey: string }): Promise<void> {
  const setup = await startServer({
    config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', ...env }),
    logger: createLogger('silent'),
  });
  try {
    await setup.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
    await setup.context.service.putConfig('0367', {
      domain: crm.url,
      api_key: crm.apiKey,
      enabled: true,
      events: allEvents,
    });
  } finally {
    await setup.close();
  }
}
