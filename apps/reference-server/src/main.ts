import { ConfigError, loadConfig } from './config.js';
import { installCrashGuard } from './crash-guard.js';
import { demoRefusal, prepareDemo } from './demo.js';
import { fillDevSecrets } from './dev-secrets.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

async function main() {
  const env = { ...process.env };
  const demoMode = process.argv.includes('--demo');
  const refused = demoMode ? demoRefusal(env) : undefined;
  if (refused) {
    process.stderr.write(`${refused}\n`);
    process.exit(1);
  }
  const filled = fillDevSecrets(env);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (filled.length > 0) {
    logger.warn(
      { filled, file: `${config.dataDir}/dev-secrets.json` },
      'development secrets generated (set them in the environment for production; NODE_ENV=production requires them)',
    );
  }
  const demo = demoMode ? await prepareDemo(logger) : undefined;
  const running = await startServer({ config, logger, originator: demo?.originator, demoState: demo?.state });
  installCrashGuard(logger, (kind) => running.context.metrics.escapedErrors.inc({ kind }));
  await demo?.seed(running, config);
  logger.info(
    { admin_ui: `${running.url}/retailcrm-admin/`, storage: running.storage.kind },
    'open the admin UI with the ADMIN_TOKEN (see README)',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    demo?.close();
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`reference-server failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
