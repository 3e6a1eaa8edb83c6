import { describe, expect, it } from 'vitest';
import {
  type ConfigCacheLogger,
  ConfigCacheMissingPeerError,
  createConfigCache,
  createPgListenInvalidationSource,
} from '../src/index.js';
import { importPg } from '../src/pg-listen-source.js';

/** What Node throws when a package is not installed. */
function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /app/dist/pg.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

const loader = { load: async () => 'v', loadAll: async () => [] as Array<[string, string]> };

function recordingLogger(): ConfigCacheLogger & { lines: Array<{ message: string; details?: unknown }> } {
  const lines: Array<{ message: string; details?: unknown }> = [];
  return {
    lines,
    warn: (details, message = '') => void lines.push({ message, details }),
    info: (details, message = '') => void lines.push({ message, details }),
  };
}

describe('config-cache without pg installed', () => {
  it('importPg turns a missing pg into an error that says to install it', async () => {
    const error = await importPg(() => Promise.reject(notFound('pg'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigCacheMissingPeerError);
    expect(error).toMatchObject({ code: 'missing_peer', packageName: 'pg' });
    expect((error as Error).message).toMatch(
      /needs the "pg" package, which is not installed: install it \(npm install pg/,
    );
  });

  it('a module missing inside pg, or any other failure, is not misreported as "install pg"', async () => {
    const nested = notFound('pg-types');
    await expect(importPg(() => Promise.reject(nested))).rejects.toBe(nested);
    const other = new Error('boom');
    await expect(importPg(() => Promise.reject(other))).rejects.toBe(other);
  });

  it('start() rejects at once instead of retrying forever, and nothing keeps running', async () => {
    const logger = recordingLogger();
    let attempts = 0;
    const cache = createConfigCache({
      loader,
      logger,
      invalidation: createPgListenInvalidationSource({
        connectionString: 'postgres://user:pw@127.0.0.1:5432/db',
        channel: 'cfg',
        createClient: async () => {
          attempts += 1;
          return (await importPg(() => Promise.reject(notFound('pg')))) as never;
        },
        backoff: { minMs: 1, maxMs: 1 },
      }),
    });
    await expect(cache.start()).rejects.toThrow(/install it \(npm install pg/);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(attempts).toBe(1); // no retry loop behind the failure
    expect(logger.lines.filter((l) => l.message.includes('retrying'))).toEqual([]);
    await cache.close();
  });
});

describe('config-cache hands its logger to its invalidation source', () => {
  it('a source given no logger reports its retries to the cache logger', async () => {
    const logger = recordingLogger();
    const cache = createConfigCache({
      name: 'tenants',
      loader,
      logger,
      invalidation: createPgListenInvalidationSource({
        connectionString: 'postgres://user:s3cret@127.0.0.1:5432/db',
        channel: 'cfg',
        createClient: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432 (password s3cret)');
        },
        backoff: { minMs: 60_000, maxMs: 60_000 },
      }),
    });
    await cache.start(); // a database down at boot does not block startup...
    const retry = logger.lines.find((l) => l.message === 'config-cache: LISTEN connect failed; retrying');
    expect(retry).toBeDefined(); // ...but it is not silent either
    expect(JSON.stringify(retry?.details)).toContain('ECONNREFUSED');
    expect(JSON.stringify(retry?.details)).not.toContain('s3cret');
    await cache.close();
  });

  it("a source's own logger still wins", async () => {
    const cacheLogger = recordingLogger();
    const sourceLogger = recordingLogger();
    const cache = createConfigCache({
      loader,
      logger: cacheLogger,
      invalidation: createPgListenInvalidationSource({
        connectionString: 'postgres://127.0.0.1:5432/db',
        channel: 'cfg',
        logger: sourceLogger,
        createClient: async () => {
          throw new Error('connect ECONNREFUSED');
        },
        backoff: { minMs: 60_000, maxMs: 60_000 },
      }),
    });
    await cache.start();
    expect(sourceLogger.lines.map((l) => l.message)).toContain('config-cache: LISTEN connect failed; retrying');
    expect(cacheLogger.lines.map((l) => l.message)).not.toContain('config-cache: LISTEN connect failed; retrying');
    await cache.close();
  });
});
