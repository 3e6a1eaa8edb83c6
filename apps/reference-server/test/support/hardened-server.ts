import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, type StartServerOptions, startServer } from '../../src/server.js';
import { testClientFactory, testEnv } from '../helpers.js';

/** PUBLIC_KEY and WA_WEB_TOKEN as production requires them (the admin token is then refused in URLs). */
export const HARDENED_PUBLIC_KEY = 'hardened-public-key-0123456789';
export const HARDENED_INTERNAL_TOKEN = 'hardened-internal-token-0123456789';

/** The server in this process on PGlite (memory), configured like production for the URL credentials. */
export function startHardenedServer(options: Omit<StartServerOptions, 'config'> = {}): Promise<RunningServer> {
  return startServer({
    config: loadConfig({
      ...testEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '200',
      PUBLIC_KEY: HARDENED_PUBLIC_KEY,
      WA_WEB_TOKEN: HARDENED_INTERNAL_TOKEN,
    }),
    logger: createLogger('silent'),
    clientFactory: testClientFactory,
    inMemory: true,
    ...options,
  });
}
