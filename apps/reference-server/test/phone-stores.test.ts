import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createManualClock,
  registerCommandBusSuite,
  registerDeviceRegistrySuite,
  registerQrTokenStoreSuite,
  registerRevokedTokenStoreSuite,
  registerUserStoreSuite,
} from '@callbridge/phone-protocol/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PhoneCallStore } from '../src/phone/calls.js';
import { SqlCommandBus } from '../src/phone/sql-command-bus.js';
import { SqlDeviceRegistry, SqlPhoneUserStore, SqlQrTokenStore, SqlRevokedTokenStore } from '../src/phone/stores.js';
import { createPgliteStorage } from '../src/storage/pglite.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { createTestDatabase } from './helpers.js';

// The SQL implementations of phone-protocol's ports, run against both drivers: phone-protocol's exported port
// suites, then what the server's stores add (enterprise extensions, ordering, the call outbox).

const suiteApi = { describe, it, expect, afterEach };

interface Backend {
  name: string;
  open(): Promise<{ storage: SqlStorage; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'pglite',
    async open() {
      const { storage } = await createPgliteStorage(undefined);
      return { storage, close: () => storage.close() };
    },
  },
];
if (process.env.TEST_DATABASE_URL) {
  backends.push({
    name: 'postgres',
    async open() {
      const db = await createTestDatabase(process.env.TEST_DATABASE_URL as string);
      const storage = await createPostgresStorage(db.url, 4);
      return {
        storage,
        close: async () => {
          await storage.close();
          await db.drop();
        },
      };
    },
  });
}

describe.each(backends)('phone SQL stores on $name', (backend) => {
  let storage: SqlStorage;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ storage, close } = await backend.open());
    await storage.upsertEnterprise({ number: '0367', name: 'Shop' });
  });
  afterAll(() => close());

  const name = `SQL (${backend.name})`;
  registerCommandBusSuite(suiteApi, name, (options) => new SqlCommandBus(storage.sql, options));
  registerUserStoreSuite(suiteApi, name, () => new SqlPhoneUserStore(storage.sql));
  registerDeviceRegistrySuite(suiteApi, name, () => new SqlDeviceRegistry(storage.sql));
  registerQrTokenStoreSuite(suiteApi, name, () => new SqlQrTokenStore(storage.sql));
  registerRevokedTokenStoreSuite(suiteApi, name, () => new SqlRevokedTokenStore(storage.sql));

  it('users: one user per extension, listed by enterprise', async () => {
    const users = new SqlPhoneUserStore(storage.sql);
    const base = { passwordHash: 'scrypt$x', isAdmin: false, isActive: true };
    await users.save({ id: 'u1', username: 'anna', ...base });
    await users.save({ id: 'u2', username: 'boris', ...base });
    expect(await users.findById('u1')).toMatchObject({ username: 'anna', extension: null });
    await users.assign('u1', '0367', '150');
    await users.assign('u2', '0367', '150');
    expect(await users.findByExtension('0367', '150')).toMatchObject({ id: 'u2' });
    expect(await users.findById('u1')).toMatchObject({ enterpriseNumber: '0367', extension: null });
    expect((await users.listByEnterprise('0367')).map((u) => u.username)).toEqual(['anna', 'boris']);
  });

  it('devices: listByUser newest first', async () => {
    const devices = new SqlDeviceRegistry(storage.sql);
    const record = { userId: 'u1', registeredAt: 1, queueStuck: false, stuckCount: 0, stuckByType: {} };
    await devices.put({ ...record, deviceId: 'd1', lastSeenAt: 10 });
    await devices.put({ ...record, deviceId: 'd2', lastSeenAt: 20, stuckByType: { call_update: 2 } });
    expect((await devices.listByUser('u1')).map((d) => d.deviceId)).toEqual(['d2', 'd1']);
    await devices.put({ ...record, deviceId: 'd1', lastSeenAt: 30, appVersion: '1.2' });
    expect((await devices.listByUser('u1')).map((d) => d.deviceId)).toEqual(['d1', 'd2']);
  });

  it('calls: the first result wins, only from the addressed user; leases keep uploads exclusive', async () => {
    const calls = new PhoneCallStore(storage.sql);
    const base = { enterpriseNumber: '0367', retailcrmUserId: '18', extension: '150', phone: '+7903' };
    await calls.insert({ ...base, commandId: 'k1', phoneUserId: 'u1', deviceId: 'd1', createdAt: 1 });
    const update = { call_request_id: 'k1', call_status: 'connected' as const, call_duration_seconds: 5 };
    expect(await calls.recordResult('k1', 'u2', update, 100)).toBe(false);
    expect(await calls.recordResult('k1', 'u1', update, 100)).toBe(true);
    expect(await calls.recordResult('k1', 'u1', { ...update, call_status: 'no_answer' }, 101)).toBe(false);
    expect(await calls.recordResult('manual-1', 'u1', update, 101)).toBe(false);

    const [x, y] = await Promise.all([calls.claimDue(100, 50), calls.claimDue(100, 50)]);
    expect([...x, ...y].map((c) => c.commandId)).toEqual(['k1']);
    expect([...x, ...y][0]).toMatchObject({ attempts: 1, result: { call_status: 'connected' } });
    expect(await calls.claimDue(120, 50)).toEqual([]);
    // Lease expired (the uploader crashed): another instance takes it.
    expect((await calls.claimDue(150, 50)).map((c) => c.attempts)).toEqual([2]);
    await calls.markRetry('k1', 500, 'boom');
    expect(await calls.claimDue(499, 50)).toEqual([]);
    expect(await calls.claimDue(500, 50)).toHaveLength(1);
    await calls.markUploaded('k1', 600);
    expect(await calls.claimDue(10_000, 50)).toEqual([]);
    expect(await calls.countsByState()).toMatchObject({ uploaded: 1, pending: 0 });
  });
});

describe('SQL command bus on a PGlite data directory', () => {
  it('queued commands survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-phone-'));
    try {
      const clock = createManualClock();
      const first = await createPgliteStorage(dir);
      await new SqlCommandBus(first.storage.sql, { clock }).enqueue({ id: 'p1', deviceId: 'dev', phone: '+7904' });
      await first.storage.close();
      const second = await createPgliteStorage(dir);
      expect((await new SqlCommandBus(second.storage.sql, { clock }).claim('dev')).command).toMatchObject({
        id: 'p1',
        phone: '+7904',
      });
      await second.storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
