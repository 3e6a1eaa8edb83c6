import { randomBytes } from 'node:crypto';
import { createFakeRetailCrm } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { Storage } from '../src/storage/types.js';
import { createTestDatabase, testClientFactory, testEnv } from './helpers.js';

const baseUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(!baseUrl)('server on PostgreSQL (DATABASE_URL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let srv: RunningServer;
  let other: Storage;

  beforeAll(async () => {
    db = await createTestDatabase(baseUrl as string);
    srv = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url }),
      logger: createLogger('silent'),
    });
    // A second "instance" writing to the same database.
    other = await createPostgresStorage(db.url, 2);
  });

  afterAll(async () => {
    await srv?.close();
    await other?.close();
    await db?.drop();
  });

  it('serves from PostgreSQL and the cache follows another instance through LISTEN/NOTIFY', async () => {
    expect(srv.storage.kind).toBe('postgres');
    const ready = await (await fetch(`${srv.url}/ready`)).json();
    expect(ready).toMatchObject({ ok: true });
    await other.upsertEnterprise({ number: '0367', name: 'PG Shop', pbxToken: 't' });
    const res = await fetch(`${srv.url}/api/config/0367`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ domain: 'demo.retailcrm.ru', api_key: 'key-0123456789', enabled: true }),
    });
    expect(res.status).toBe(200);
    expect((await srv.configCache.get('0367'))?.retailcrm?.enabled).toBe(true);
    expect((await (await fetch(`${srv.url}/stats`)).json()) as { storage: string }).toMatchObject({
      storage: 'postgres',
    });
    await other.updateIntegrationConfig('0367', 'retailcrm', (c) => ({ ...c, enabled: false }));
    await expect.poll(() => srv.configCache.peek('0367')?.retailcrm?.enabled, { timeout: 5000 }).toBe(false);
    await expect.poll(() => srv.enablementCache.peek('0367')?.retailcrm, { timeout: 5000 }).toBe(false);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!baseUrl || !redisUrl)('server on PostgreSQL + Redis queue', () => {
  const fake = createFakeRetailCrm({ rateLimit: false });
  const msw = setupServer(...fake.handlers);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let srv: RunningServer;

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    db = await createTestDatabase(baseUrl as string);
    srv = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, REDIS_URL: redisUrl }),
      logger: createLogger('silent'),
      redisPrefix: `cbrs${randomBytes(4).toString('hex')}`,
      clientFactory: testClientFactory,
    });
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx' });
    await srv.context.service.putConfig('0367', {
      domain: fake.url,
      api_key: fake.apiKey,
      enabled: true,
      events: { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: false },
    });
  });

  afterAll(async () => {
    msw.close();
    await srv?.close();
    await db?.drop();
  });

  it('delivers an accepted hangup through the BullMQ queue', async () => {
    srv.enablementCache.invalidate('0367');
    srv.configCache.invalidate('0367');
    const res = await fetch(`${srv.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pbx-token': 'pbx' },
      body: JSON.stringify({
        enterprise_number: '0367',
        event_type: 'hangup',
        payload: {
          UniqueId: 'r.1',
          CallType: 1,
          Phone: '+79005550000',
          Extensions: ['150'],
          CallStatus: '0',
          StartTime: '2026-11-23 10:00:00',
          EndTime: '2026-11-23 10:00:10',
        },
      }),
    });
    expect(res.status).toBe(202);
    await expect.poll(() => fake.state.uploadedCalls.length, { timeout: 10_000 }).toBe(1);
    expect(fake.state.uploadedCalls[0]).toMatchObject({ externalId: 'r.1', type: 'out', result: 'failed' });
  });
});
