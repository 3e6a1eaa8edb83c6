import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createMessenger, type Messenger } from '../src/messenger/index.js';
import { createPgliteStorage } from '../src/storage/pglite.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { testEnv } from './helpers.js';
import { type OwnRedis, startOwnRedis } from './support/redis-server.js';

const hasRedisServer = Boolean(process.env.TEST_REDIS_URL);

/** Redis restarted under the hub: inbound events are refused (503, the provider retries) and nothing is lost. */
describe.skipIf(!hasRedisServer)('messenger hub while its Redis restarts', () => {
  let redis: OwnRedis;
  let storage: SqlStorage;
  let messenger: Messenger;
  let server: Server;
  let url: string;
  let token: string;
  let probe: Redis;

  beforeAll(async () => {
    redis = await startOwnRedis();
    storage = (await createPgliteStorage(undefined)).storage;
    const config = loadConfig({ ...testEnv, REDIS_URL: redis.url });
    const logger = createLogger('silent');
    messenger = createMessenger({ config, messenger: config.messenger, sql: storage.sql, logger, redisPrefix: 'rf' });
    const { app } = createApp(config, { storage, logger, messenger });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    token = await messenger.providerTokens.ensure(5);
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    probe.on('error', () => undefined);
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    probe?.disconnect();
    await messenger?.close();
    await storage?.close();
    await redis?.close();
  });

  const post = async (id: string) => {
    const res = await fetch(`${url}/webhook?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        event: 'messages.incoming',
        tenant: 5,
        channel: 'whatsapp',
        message_id: id,
        from: '79991234567',
        text: 'hi',
        ts: 1716748800,
      }),
    });
    return { status: res.status, data: (await res.json()) as Record<string, unknown> };
  };

  it('answers 503 while Redis is down, then accepts the retry exactly once', async () => {
    expect((await post('m-1')).data).toEqual({ ok: true, queued: true });
    await redis.kill();
    const down = await post('m-2');
    expect(down.status).toBe(503);
    expect(down.data).toMatchObject({ ok: false, error: 'dedup_unavailable' });
    expect((await messenger.store.listEvents(5)).map((e) => e.messageId)).toEqual(['m-1']);

    await redis.start();
    // The provider keeps retrying; once the client has reconnected the event goes through.
    await expect.poll(async () => (await post('m-2')).status, { timeout: 10_000, interval: 200 }).toBe(200);
    expect((await post('m-2')).data).toEqual({ ok: true, queued: false, duplicate: true });
    expect((await post('m-1')).data).toMatchObject({ duplicate: true });
    expect((await messenger.store.listEvents(5)).map((e) => e.messageId)).toEqual(['m-2', 'm-1']);
    const queued = (await probe.lrange('rf:inbox:message_in', 0, -1)).map((s) => JSON.parse(s).message_id);
    expect(queued).toEqual(['m-2', 'm-1']);
  });
});
