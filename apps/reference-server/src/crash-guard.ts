import type { Logger } from 'pino';

/**
 * Keeps the process alive when an error escapes a request (an `'error'` event nobody listens to, a rejected
 * promise nobody awaits): it is logged and counted instead of ending every other client's connection.
 * Startup failures still exit (see `main.ts`); install this only once the server is listening.
 */
export function installCrashGuard(logger: Logger, onError: (kind: string) => void = () => undefined): () => void {
  const uncaught = (err: unknown) => {
    onError('uncaught_exception');
    logger.error({ err }, 'uncaught exception (process kept alive)');
  };
  const unhandled = (reason: unknown) => {
    onError('unhandled_rejection');
    logger.error({ err: reason }, 'unhandled promise rejection (process kept alive)');
  };
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', unhandled);
  return () => {
    process.off('uncaughtException', uncaught);
    process.off('unhandledRejection', unhandled);
  };
}
