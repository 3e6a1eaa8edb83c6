import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type PhoneCommand } from '@callbridge/phone-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneCallStore } from '../src/phone/calls.js';
import { SqlCommandBus } from '../src/phone/sql-command-bus.js';
import { SqlDeviceRegistry, SqlPhoneUserStore, SqlQrTokenStore, SqlRevokedTokenStore } from '../src/phone/stores.js';
import { createPgliteStorage } from '../src/storage/pglite.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { createTestDatabase } from './helpers.js';

// The SQL implementations of phone-protocol's ports, run against both drivers.

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
  const clock = new ManualClock();

  beforeAll(async () => {
    ({ storage, close } = await backend.open());
    await storage.upsertEnterprise({ number: '0367', name: 'Shop' });
  });
  afterAll(() => close());

  it('users: upsert by id, lookup by name/id, one user per extension', async () => {
    const users = new SqlPhoneUserStore(storage.sql);
    const base = { passwordHash: 'scrypt$x', isAdmin: false, isActive: true };
    await users.save({ id: 'u1', username: 'anna', ...base });
    await users.save({ id: 'u2', username: 'boris', ...base });
    await users.save({ id: 'u1', username: 'anna2', ...base, isActive: false });
    expect(await users.findByUsername('anna')).toBeUndefined();
    expect(await users.findById('u1')).toMatchObject({ username: 'anna2', isActive: false, extension: null });
    await users.assign('u1', '0367', '150');
    await users.assign('u2', '0367', '150');
    expect(await users.findByExtension('0367', '150')).toMatchObject({ id: 'u2' });
    expect(await users.findById('u1')).toMatchObject({ enterpriseNumber: '0367', extension: null });
    expect((await users.listByEnterprise('0367')).map((u) => u.username)).toEqual(['anna2', 'boris']);
  });

  it('devices: put replaces the record, listByUser newest first', async () => {
    const devices = new SqlDeviceRegistry(storage.sql);
    const record = { userId: 'u1', registeredAt: 1, queueStuck: false, stuckCount: 0, stuckByType: {} };
    await devices.put({ ...record, deviceId: 'd1', lastSeenAt: 10 });
    await devices.put({ ...record, deviceId: 'd2', lastSeenAt: 20, stuckByType: { call_update: 2 } });
    await devices.put({ ...record, deviceId: 'd1', lastSeenAt: 30, appVersion: '1.2' });
    expect(await devices.get('d1')).toMatchObject({ lastSeenAt: 30, appVersion: '1.2' });
    expect((await devices.listByUser('u1')).map((d) => d.deviceId)).toEqual(['d1', 'd2']);
    await devices.put({ ...record, deviceId: 'd2', userId: 'u2', lastSeenAt: 40 });
    expect((await devices.listByUser('u1')).map((d) => d.deviceId)).toEqual(['d1']);
    expect(await devices.list()).toHaveLength(2);
  });

  it('devices: claim is bound to (enterprise, user); release frees it', async () => {
    const devices = new SqlDeviceRegistry(storage.sql);
    const record = {
      deviceId: 'claimed',
      userId: 'u1',
      tenant: '1001',
      registeredAt: 1,
      lastSeenAt: 1,
      queueStuck: false,
      stuckCount: 0,
      stuckByType: {},
    };
    expect(await devices.claim(record)).toBe(true);
    expect(await devices.claim({ ...record, lastSeenAt: 2 })).toBe(true);
    expect(await devices.claim({ ...record, userId: 'u9', tenant: '2002', lastSeenAt: 3 })).toBe(false);
    expect(await devices.claim({ ...record, tenant: '2002', lastSeenAt: 3 })).toBe(false);
    expect(await devices.get('claimed')).toEqual({ ...record, lastSeenAt: 2 });
    const race = await Promise.all([
      devices.claim({ ...record, deviceId: 'raced', userId: 'a' }),
      devices.claim({ ...record, deviceId: 'raced', userId: 'b' }),
    ]);
    expect(race.filter(Boolean)).toHaveLength(1);
    expect(await devices.release('claimed')).toEqual({ ...record, lastSeenAt: 2 });
    expect(await devices.release('claimed')).toBeUndefined();
    expect(await devices.claim({ ...record, userId: 'u9', tenant: '2002' })).toBe(true);
  });

  it('revoked tokens: the first revoke of a jti wins; families stay revoked until their deadline', async () => {
    const store = new SqlRevokedTokenStore(storage.sql);
    const now = 1_800_000_000_000;
    const first = await Promise.all([store.revoke('j1', now + 60_000, now), store.revoke('j1', now + 60_000, now)]);
    expect(first.sort()).toEqual([false, true]);
    expect(await store.revoke('j1', now + 60_000, now + 1000)).toBe(false);
    expect(await store.isFamilyRevoked('f1', now)).toBe(false);
    await store.revokeFamily('f1', now + 60_000, now);
    expect(await store.isFamilyRevoked('f1', now + 59_999)).toBe(true);
    expect(await store.isFamilyRevoked('f1', now + 60_000)).toBe(false);
  });

  it('QR tokens: single use, expiry by the injected clock', async () => {
    const qr = new SqlQrTokenStore(storage.sql);
    await qr.put('digest-a', 'u1', 1_000, 1_000);
    await qr.put('digest-b', 'u1', 1_000, 1_000);
    expect(await qr.take('digest-a', 999)).toBe('u1');
    expect(await qr.take('digest-a', 999)).toBeUndefined();
    expect(await qr.take('digest-b', 1_000)).toBeUndefined();
  });

  it('command bus: idempotent enqueue, one claim per delivery, ack once, release to the head', async () => {
    const bus = new SqlCommandBus(storage.sql, { clock, ackTimeoutMs: 1000 });
    let wakes = 0;
    const stop = bus.subscribe('dev-a', () => {
      wakes += 1;
    });
    const first = await bus.enqueue({ id: 'c1', deviceId: 'dev-a', phone: '+7900', extra: { n: 1 } });
    expect(first).toMatchObject({ id: 'c1', deliveries: 0, extra: { n: 1 }, enqueuedAt: clock.now() });
    await bus.enqueue({ id: 'c1', deviceId: 'dev-a', phone: 'other' });
    await bus.enqueue({ id: 'c2', deviceId: 'dev-a', phone: '+7901' });
    expect(wakes).toBe(2);
    expect(await bus.size('dev-a')).toBe(2);

    const [a, b] = await Promise.all([bus.claim('dev-a'), bus.claim('dev-a')]);
    expect([a.command?.id, b.command?.id].sort()).toEqual(['c1', 'c2']);
    expect(await bus.claim('dev-a')).toEqual({ retryAt: clock.now() + 1000 });

    await bus.release('c2');
    expect(wakes).toBe(3);
    expect((await bus.claim('dev-a')).command).toMatchObject({ id: 'c2', deliveries: 2 });
    expect(await bus.ack('c1')).toMatchObject({ id: 'c1', phone: '+7900' });
    expect(await bus.ack('c1')).toBeUndefined();
    expect(await bus.get('c1')).toBeUndefined();
    expect(await bus.ack('c2')).toBeDefined();
    expect(await bus.claim('dev-a')).toEqual({});
    stop();
  });

  it('command bus: re-delivery after the ack deadline, dead letter after maxDeliveries', async () => {
    const dead: PhoneCommand[] = [];
    const bus = new SqlCommandBus(storage.sql, {
      clock,
      ackTimeoutMs: 1000,
      maxDeliveries: 2,
      onDeadLetter: (c) => dead.push(c),
    });
    await bus.enqueue({ id: 'r1', deviceId: 'dev-r', phone: '+7902' });
    expect((await bus.claim('dev-r')).command?.deliveries).toBe(1);
    clock.advance(999);
    expect((await bus.claim('dev-r')).command).toBeUndefined();
    clock.advance(1);
    expect((await bus.claim('dev-r')).command).toMatchObject({ id: 'r1', deliveries: 2 });
    clock.advance(1000);
    expect(await bus.claim('dev-r')).toEqual({});
    expect(dead).toMatchObject([{ id: 'r1', deliveries: 2 }]);
    expect(await bus.size('dev-r')).toBe(0);
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
      const clock = new ManualClock();
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
