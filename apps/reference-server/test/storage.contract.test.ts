import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_CHANGED_CHANNEL } from '../src/storage/migrations.js';
import { createPgliteDriver } from '../src/storage/pglite.js';
import { createPgliteThreadStorage, type PgliteListener } from '../src/storage/pglite-thread.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import { SqlStorage } from '../src/storage/sql-storage.js';
import type { Storage } from '../src/storage/types.js';
import { createTestDatabase } from './helpers.js';
import { buildServerBundle } from './support/server-process.js';

interface Harness {
  storage: Storage;
  /** Subscribes to the config channel; returns received payloads. */
  listen(): Promise<string[]>;
  close(): Promise<void>;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function contract(name: string, make: () => Promise<Harness>) {
  describe(name, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('migrations are idempotent', async () => {
      await h.storage.migrate();
      await h.storage.ping();
    });

    it('creates and reads enterprises', async () => {
      const e = await h.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
      expect(e).toMatchObject({
        number: '0367',
        name: 'Shop',
        active: true,
        integrationsConfig: {},
        adminTokenVersion: 0,
      });
      expect((await h.storage.findEnterpriseByPbxToken('pbx-0367'))?.number).toBe('0367');
      expect(await h.storage.getEnterprise('nope')).toBeUndefined();
      await h.storage.upsertEnterprise({ number: '0367', name: 'Shop 2', pbxToken: 'pbx-0367' });
      expect((await h.storage.getEnterprise('0367'))?.name).toBe('Shop 2');
    });

    it('updates one integration sub-config atomically and NOTIFYs per changed integration', async () => {
      const got = await h.listen();
      await h.storage.updateIntegrationConfig('0367', 'retailcrm', () => ({
        domain: 'https://a.retailcrm.ru',
        enabled: true,
      }));
      await h.storage.updateIntegrationConfig('0367', 'other', () => ({ x: 1 }));
      const e = await h.storage.getEnterprise('0367');
      expect(e?.integrationsConfig).toEqual({
        retailcrm: { domain: 'https://a.retailcrm.ru', enabled: true },
        other: { x: 1 },
      });
      // same value again: no notification
      await h.storage.updateIntegrationConfig('0367', 'retailcrm', (c) => c);
      await h.storage.updateIntegrationConfig('0367', 'other', () => undefined);
      await wait(150);
      expect(got.map((p) => JSON.parse(p))).toEqual([
        { enterprise_number: '0367', integration_type: 'retailcrm' },
        { enterprise_number: '0367', integration_type: 'other' },
        { enterprise_number: '0367', integration_type: 'other' },
      ]);
      expect((await h.storage.getEnterprise('0367'))?.integrationsConfig).toEqual({
        retailcrm: { domain: 'https://a.retailcrm.ru', enabled: true },
      });
    });

    it('a failing updater rolls back and sends nothing', async () => {
      const got = await h.listen();
      await expect(
        h.storage.updateIntegrationConfig('0367', 'retailcrm', () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await expect(h.storage.updateIntegrationConfig('9999', 'retailcrm', () => ({}))).rejects.toMatchObject({
        code: 'enterprise_not_found',
      });
      await wait(100);
      expect(got).toEqual([]);
    });

    it('bumps the admin token version', async () => {
      expect(await h.storage.bumpAdminTokenVersion('0367')).toBe(1);
      expect(await h.storage.bumpAdminTokenVersion('0367')).toBe(2);
      expect((await h.storage.getEnterprise('0367'))?.adminTokenVersion).toBe(2);
    });

    it('writes and filters integration logs with paging', async () => {
      for (let i = 0; i < 5; i++) {
        await h.storage.insertIntegrationLog({
          enterpriseNumber: '0367',
          integrationType: 'retailcrm',
          eventType: i % 2 ? 'hangup' : 'dial',
          callUniqueId: `u${i}`,
          requestData: { i },
          responseData: null,
          status: i === 4 ? 'error' : 'success',
          errorMessage: i === 4 ? 'bad' : null,
          durationMs: 12.6,
        });
      }
      const all = await h.storage.listIntegrationLogs({ enterpriseNumber: '0367', limit: 2, offset: 0 });
      expect(all.total).toBe(5);
      expect(all.items.map((l) => l.callUniqueId)).toEqual(['u4', 'u3']);
      expect(all.items[0]).toMatchObject({
        status: 'error',
        errorMessage: 'bad',
        requestData: { i: 4 },
        durationMs: 13,
      });
      const page2 = await h.storage.listIntegrationLogs({ enterpriseNumber: '0367', limit: 2, offset: 2 });
      expect(page2.items.map((l) => l.callUniqueId)).toEqual(['u2', 'u1']);
      const dials = await h.storage.listIntegrationLogs({
        enterpriseNumber: '0367',
        eventType: 'dial',
        status: 'success',
        limit: 10,
        offset: 0,
      });
      expect(dials.items.map((l) => l.callUniqueId)).toEqual(['u2', 'u0']);
      const other = await h.storage.listIntegrationLogs({ enterpriseNumber: '0001', limit: 10, offset: 0 });
      expect(other).toEqual({ items: [], total: 0 });
    });

    it('integration-log rows carry direction and phone; warning and skipped are statuses, anything else is refused', async () => {
      for (const status of ['warning', 'skipped'] as const) {
        await h.storage.insertIntegrationLog({
          enterpriseNumber: '0368',
          integrationType: 'retailcrm',
          eventType: 'hangup',
          callUniqueId: `w-${status}`,
          direction: 'out',
          phone: '+375291234567',
          status,
        });
      }
      const rows = await h.storage.listIntegrationLogs({
        enterpriseNumber: '0368',
        status: 'warning',
        limit: 10,
        offset: 0,
      });
      expect(rows.items).toMatchObject([
        { callUniqueId: 'w-warning', direction: 'out', phone: '+375291234567', status: 'warning' },
      ]);
      await expect(
        h.storage.insertIntegrationLog({
          enterpriseNumber: '0368',
          integrationType: 'retailcrm',
          eventType: 'hangup',
          status: 'lost' as 'error',
        }),
      ).rejects.toThrow();
      await expect(
        h.storage.insertIntegrationLog({
          enterpriseNumber: '0368',
          integrationType: 'retailcrm',
          eventType: 'hangup',
          direction: 'sideways' as 'in',
          status: 'success',
        }),
      ).rejects.toThrow();
    });

    it('lists internal phones with owners', async () => {
      const uid = await h.storage.createUser({ enterpriseNumber: '0367', firstName: 'Julai', lastName: 'Junovy' });
      await h.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '151' });
      await h.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150', userId: uid });
      await h.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '1000' });
      expect(await h.storage.listInternalPhones('0367')).toEqual([
        { phoneNumber: '150', userId: uid, ownerName: 'Julai Junovy' },
        { phoneNumber: '151', userId: null, ownerName: null },
        { phoneNumber: '1000', userId: null, ownerName: null },
      ]);
    });

    it('stores dead letters', async () => {
      await h.storage.insertDeadLetter({
        queue: 'crm',
        enterpriseNumber: '0367',
        jobId: 'j1',
        payload: { a: 1 },
        errorMessage: 'x',
        attempts: 3,
      });
      expect(await h.storage.countDeadLetters()).toBe(1);
      expect(await h.storage.listDeadLetters('crm')).toMatchObject([
        { queue: 'crm', jobId: 'j1', payload: { a: 1 }, attempts: 3 },
      ]);
      expect(await h.storage.listDeadLetters('other')).toEqual([]);
    });

    it("pages one enterprise's dead letters and claims a re-send once while it may be pending", async () => {
      const add = (enterpriseNumber: string) =>
        h.storage.insertDeadLetter({ queue: 'q', enterpriseNumber, jobId: 'j', payload: {}, attempts: 1 });
      const a1 = await add('0700');
      const b1 = await add('0701');
      const a2 = await add('0700');
      const page = (before?: number) =>
        h.storage.listEnterpriseDeadLetters({ enterpriseNumber: '0700', limit: 1, before });
      expect((await page()).map((d) => d.id)).toEqual([a2]);
      expect((await page(a2)).map((d) => d.id)).toEqual([a1]);
      expect(await h.storage.getEnterpriseDeadLetter('0700', b1)).toBeUndefined();
      expect(await h.storage.claimDeadLetterResend('0700', b1, 60_000)).toEqual({ status: 'not_found' });

      const first = await h.storage.claimDeadLetterResend('0700', a1, 60_000);
      expect(first).toMatchObject({
        status: 'claimed',
        item: { id: a1, resendCount: 1, resentAt: expect.any(String) },
      });
      expect(await h.storage.claimDeadLetterResend('0700', a1, 60_000)).toMatchObject({ status: 'pending' });
      // Two claims racing: exactly one wins.
      const race = await Promise.all([
        h.storage.claimDeadLetterResend('0700', a2, 60_000),
        h.storage.claimDeadLetterResend('0700', a2, 60_000),
      ]);
      expect(race.map((r) => r.status).sort()).toEqual(['claimed', 'pending']);
      // A failed enqueue releases; an earlier re-send older than the pending window may go again.
      await h.storage.releaseDeadLetterResend(a1, 1);
      expect((await h.storage.getEnterpriseDeadLetter('0700', a1))?.resentAt).toBeNull();
      expect(await h.storage.claimDeadLetterResend('0700', a1, 60_000)).toMatchObject({ item: { resendCount: 2 } });
      expect(await h.storage.claimDeadLetterResend('0700', a1, 0)).toMatchObject({
        status: 'claimed',
        item: { resendCount: 3 },
      });
    });

    it('filters logs by the digits of a phone anywhere in request_data', async () => {
      await h.storage.upsertEnterprise({ number: '0800', name: 'Phones' });
      const add = (requestData: unknown) =>
        h.storage.insertIntegrationLog({
          enterpriseNumber: '0800',
          integrationType: 'retailcrm',
          eventType: 'dial',
          status: 'success',
          requestData,
        });
      const a = await add({ data: { phone: '+7 (999) 123-45-67' } });
      const b = await add({ data: { calls: [{ phone: '74951112233' }] } });
      await add({ data: { note: '9991234567' } });
      const ids = async (phoneDigits: string) =>
        (
          await h.storage.listIntegrationLogs({ enterpriseNumber: '0800', phoneDigits, limit: 10, offset: 0 })
        ).items.map((l) => l.id);
      expect(await ids('9991234567')).toEqual([a]);
      expect(await ids('4951112233')).toEqual([b]);
      expect(await ids('000000')).toEqual([]);
    });
  });
}

/** A PGlite harness: `listen` subscribes afresh to the config channel through `source` (PGlite or its thread). */
function pgliteHarness(storage: Storage, source: PgliteListener, close: () => Promise<void>): Harness {
  const unsubs: Array<() => Promise<void>> = [];
  return {
    storage,
    async listen() {
      for (const u of unsubs.splice(0)) await u();
      const got: string[] = [];
      unsubs.push(await source.listen(CONFIG_CHANGED_CHANNEL, (p) => got.push(p)));
      return got;
    },
    close,
  };
}

contract('SqlStorage on PGlite', async () => {
  const db = new PGlite();
  const storage = new SqlStorage(createPgliteDriver(db));
  await storage.migrate();
  return pgliteHarness(storage, db, () => storage.close());
});

contract('SqlStorage on PGlite in a worker thread (the built server)', async () => {
  // The worker is a built script: the same tsup build the server processes of the tests run.
  const bundle = await buildServerBundle();
  const script = pathToFileURL(join(dirname(bundle.mainJs), 'pglite-worker.js'));
  const { storage, listener } = await createPgliteThreadStorage(undefined, script);
  return pgliteHarness(storage, listener, async () => {
    await storage.close();
    bundle.remove();
  });
});

const baseUrl = process.env.TEST_DATABASE_URL;
describe.skipIf(!baseUrl)('postgres', () => {
  contract('SqlStorage on PostgreSQL', async () => {
    const tdb = await createTestDatabase(baseUrl as string);
    const storage = await createPostgresStorage(tdb.url, 3);
    let listener: pg.Client | undefined;
    return {
      storage,
      async listen() {
        await listener?.end();
        const got: string[] = [];
        listener = new pg.Client({ connectionString: tdb.url });
        await listener.connect();
        listener.on('notification', (n) => got.push(n.payload ?? ''));
        await listener.query(`LISTEN ${CONFIG_CHANGED_CHANNEL}`);
        return got;
      },
      async close() {
        await listener?.end();
        await storage.close();
        await tdb.drop();
      },
    };
  });
});
