import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CommandBus,
  type CommandBusOptions,
  type DeviceRecord,
  type DeviceRegistry,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryLoginAttemptStore,
  InMemoryQrTokenStore,
  InMemoryRevokedTokenStore,
  InMemoryUserStore,
  type LoginAttemptStore,
  ManualClock,
  type QrTokenStore,
  type RevokedTokenStore,
  type UserStore,
} from '../src/index.js';
import {
  RedisCommandBus,
  RedisDeviceRegistry,
  RedisLoginAttemptStore,
  RedisQrTokenStore,
  RedisRevokedTokenStore,
  RedisUserStore,
} from '../src/redis.js';

interface Ports {
  bus(clock: ManualClock, ackTimeoutMs: number, extra?: Partial<CommandBusOptions>): CommandBus;
  users(): UserStore;
  devices(): DeviceRegistry;
  qr(): QrTokenStore;
  loginAttempts(): LoginAttemptStore;
  revoked(): RevokedTokenStore;
}

const redisUrl = process.env.TEST_REDIS_URL;
const connections: Redis[] = [];
const buses: CommandBus[] = [];

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await Promise.all(connections.map((c) => c.quit()));
});

function redisPorts(): Ports {
  const redis = new Redis(redisUrl!);
  connections.push(redis);
  // Random prefix per suite run: other test files share this Redis.
  const keyPrefix = `test:phone:${randomUUID()}:`;
  return {
    bus: (clock, ackTimeoutMs, extra) => {
      const bus = new RedisCommandBus({
        redis,
        keyPrefix: `${keyPrefix}${randomUUID()}:`,
        clock,
        ackTimeoutMs,
        ...extra,
      });
      buses.push(bus);
      return bus;
    },
    users: () => new RedisUserStore({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:` }),
    devices: () => new RedisDeviceRegistry({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:` }),
    qr: () => new RedisQrTokenStore({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:` }),
    loginAttempts: () => new RedisLoginAttemptStore({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:` }),
    revoked: () => new RedisRevokedTokenStore({ redis, keyPrefix: `${keyPrefix}${randomUUID()}:` }),
  };
}

const memoryPorts = (): Ports => ({
  bus: (clock, ackTimeoutMs, extra) => new InMemoryCommandBus({ clock, ackTimeoutMs, ...extra }),
  users: () => new InMemoryUserStore(),
  devices: () => new InMemoryDeviceRegistry(),
  qr: () => new InMemoryQrTokenStore(),
  loginAttempts: () => new InMemoryLoginAttemptStore(),
  revoked: () => new InMemoryRevokedTokenStore(),
});

const implementations: Array<[string, () => Ports, boolean]> = [
  ['in-memory', memoryPorts, false],
  ['redis', redisPorts, !redisUrl],
];

describe.each(implementations)('%s ports', (_name, factory, skip) => {
  describe.skipIf(skip)('contract', () => {
    let ports: Ports;
    let clock: ManualClock;
    let bus: CommandBus;

    beforeEach(() => {
      ports ??= factory();
      clock = new ManualClock(1_800_000_000_000);
      bus = ports.bus(clock, 10_000);
    });

    it('command bus: FIFO per device, idempotent enqueue, exactly one claimer', async () => {
      await bus.enqueue({ id: 'a', deviceId: 'd1', phone: '+1' });
      await bus.enqueue({ id: 'b', deviceId: 'd1', phone: '+2', extra: { crm: 'retail' } });
      await bus.enqueue({ id: 'a', deviceId: 'd1', phone: '+1' });
      await bus.enqueue({ id: 'x', deviceId: 'd2', phone: '+9' });
      expect(await bus.size('d1')).toBe(2);
      const claims = await Promise.all(Array.from({ length: 5 }, () => bus.claim('d1')));
      const got = claims.flatMap((c) => (c.command ? [c.command] : []));
      expect(got.map((c) => c.id).sort()).toEqual(['a', 'b']);
      expect(got.find((c) => c.id === 'b')).toMatchObject({ phone: '+2', deliveries: 1, extra: { crm: 'retail' } });
      // Nothing claimable: the earliest re-delivery time is reported.
      expect(await bus.claim('d1')).toEqual({ retryAt: 1_800_000_010_000 });
      expect((await bus.claim('d2')).command?.id).toBe('x');
    });

    it('command bus: re-delivers unacknowledged commands after the timeout; ack is idempotent', async () => {
      await bus.enqueue({ id: 'c1', deviceId: 'd1', phone: '+1' });
      expect((await bus.claim('d1')).command?.deliveries).toBe(1);
      clock.advance(9_999);
      expect((await bus.claim('d1')).command).toBeUndefined();
      clock.advance(1);
      const again = await bus.claim('d1');
      expect(again.command).toMatchObject({ id: 'c1', deliveries: 2 });
      const acks = await Promise.all([bus.ack('c1'), bus.ack('c1')]);
      expect(acks.filter(Boolean)).toHaveLength(1);
      expect(await bus.ack('c1')).toBeUndefined();
      clock.advance(60_000);
      expect(await bus.claim('d1')).toEqual({});
      expect(await bus.size('d1')).toBe(0);
    });

    it('command bus: drops a command after maxDeliveries unacknowledged deliveries and reports it', async () => {
      const dead: string[] = [];
      const limited = ports.bus(clock, 1000, { maxDeliveries: 2, onDeadLetter: (c) => dead.push(c.id) });
      await limited.enqueue({ id: 'never-acked', deviceId: 'd1', phone: '+1' });
      await limited.enqueue({ id: 'next', deviceId: 'd1', phone: '+2' });
      expect((await limited.claim('d1')).command?.id).toBe('never-acked');
      expect((await limited.claim('d1')).command?.id).toBe('next');
      clock.advance(1000);
      expect((await limited.claim('d1')).command).toMatchObject({ id: 'never-acked', deliveries: 2 });
      await limited.ack('next');
      clock.advance(1000);
      expect(await limited.claim('d1')).toEqual({});
      expect(dead).toEqual(['never-acked']);
      expect(await limited.size('d1')).toBe(0);
    });

    it('command bus: release puts a claimed command back at the head; ack of a queued command removes it', async () => {
      await bus.enqueue({ id: 'c1', deviceId: 'd1', phone: '+1' });
      await bus.enqueue({ id: 'c2', deviceId: 'd1', phone: '+2' });
      await bus.enqueue({ id: 'c3', deviceId: 'd1', phone: '+3' });
      const first = await bus.claim('d1');
      await bus.release(first.command!.id);
      expect((await bus.claim('d1')).command?.id).toBe('c1');
      expect(await bus.ack('c3')).toMatchObject({ id: 'c3' });
      expect((await bus.claim('d1')).command?.id).toBe('c2');
      expect((await bus.claim('d1')).command).toBeUndefined();
    });

    it('command bus: subscribers are woken on enqueue for their device only', async () => {
      const woken: string[] = [];
      // (Re)connecting wakes every subscriber once, by design (wake-ups sent during the gap are lost): settle first.
      if (bus instanceof RedisCommandBus) await bus.ready();
      const off1 = bus.subscribe('d1', () => woken.push('d1'));
      const off2 = bus.subscribe('d2', () => woken.push('d2'));
      await bus.enqueue({ id: 'w1', deviceId: 'd1', phone: '+1' });
      const deadline = Date.now() + 2000;
      while (woken.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(woken).toEqual(['d1']);
      off1();
      off2();
      await bus.enqueue({ id: 'w2', deviceId: 'd1', phone: '+1' });
      await new Promise((r) => setTimeout(r, 50));
      expect(woken).toEqual(['d1']);
    });

    it('user store: find by id and username, rename keeps the index right', async () => {
      const users = ports.users();
      const user = { id: '1', username: 'op', passwordHash: 'scrypt$x', isAdmin: false, isActive: true };
      await users.save(user);
      expect(await users.findByUsername('op')).toEqual(user);
      await users.save({ ...user, username: 'op2' });
      expect(await users.findByUsername('op')).toBeUndefined();
      expect(await users.findById('1')).toMatchObject({ username: 'op2' });
      expect(await users.findById('nope')).toBeUndefined();
    });

    it('device registry: put/get/list by user, re-assignment moves the device', async () => {
      const devices = ports.devices();
      const base: DeviceRecord = {
        deviceId: 'd1',
        userId: 'u1',
        registeredAt: 1,
        lastSeenAt: 1,
        queueStuck: false,
        stuckCount: 0,
        stuckByType: { telemetry: 2 },
      };
      await devices.put(base);
      await devices.put({ ...base, deviceId: 'd2' });
      expect((await devices.listByUser('u1')).map((d) => d.deviceId).sort()).toEqual(['d1', 'd2']);
      await devices.put({ ...base, userId: 'u2' });
      expect((await devices.listByUser('u1')).map((d) => d.deviceId)).toEqual(['d2']);
      expect(await devices.get('d1')).toEqual({ ...base, userId: 'u2' });
      expect(await devices.list()).toHaveLength(2);
    });

    it('device registry: claim is bound to (tenant, user); only a release frees the device', async () => {
      const devices = ports.devices();
      const base: DeviceRecord = {
        deviceId: 'd1',
        userId: 'u1',
        tenant: '1001',
        registeredAt: 1,
        lastSeenAt: 1,
        queueStuck: false,
        stuckCount: 0,
        stuckByType: {},
      };
      expect(await devices.claim(base)).toBe(true);
      expect(await devices.claim({ ...base, lastSeenAt: 2 })).toBe(true);
      // Another tenant's user, the same user id under another tenant, no tenant at all: all refused, unchanged.
      expect(await devices.claim({ ...base, userId: 'u9', tenant: '2002', lastSeenAt: 3 })).toBe(false);
      expect(await devices.claim({ ...base, tenant: '2002', lastSeenAt: 3 })).toBe(false);
      const { tenant: _t, ...untenanted } = base;
      expect(await devices.claim({ ...untenanted, lastSeenAt: 3 })).toBe(false);
      expect(await devices.get('d1')).toEqual({ ...base, lastSeenAt: 2 });
      expect((await devices.listByUser('u9')).map((d) => d.deviceId)).toEqual([]);
      // Two concurrent claimers of a free device: exactly one wins.
      const race = await Promise.all([
        devices.claim({ ...base, deviceId: 'd2', userId: 'a' }),
        devices.claim({ ...base, deviceId: 'd2', userId: 'b' }),
      ]);
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await devices.release('d1')).toEqual({ ...base, lastSeenAt: 2 });
      expect(await devices.get('d1')).toBeUndefined();
      expect(await devices.listByUser('u1')).toEqual([]);
      expect(await devices.release('d1')).toBeUndefined();
      expect(await devices.claim({ ...base, userId: 'u9', tenant: '2002' })).toBe(true);
      expect((await devices.listByUser('u9')).map((d) => d.deviceId)).toEqual(['d1']);
    });

    it('QR token store: single use, expiry by the injected clock', async () => {
      const qr = ports.qr();
      await qr.put('digest1', 'u1', 2000, 60_000);
      const takes = await Promise.all([qr.take('digest1', 1000), qr.take('digest1', 1000)]);
      expect(takes.filter(Boolean)).toEqual(['u1']);
      await qr.put('digest2', 'u1', 2000, 60_000);
      expect(await qr.take('digest2', 2000)).toBeUndefined();
    });

    it('login attempt store: counts atomically in a fixed window from the first failure, delete clears', async () => {
      const store = ports.loginAttempts();
      expect(await store.get('k', 1000)).toEqual({ count: 0, resetAt: 1000 });
      await Promise.all([store.increment('k', 60_000, 1000), store.increment('k', 60_000, 1000)]);
      await store.increment('k', 60_000, 30_000);
      expect(await store.get('k', 30_000)).toEqual({ count: 3, resetAt: 61_000 });
      expect(await store.get('other', 30_000)).toEqual({ count: 0, resetAt: 30_000 });
      // Expired window: the next failure starts a new one.
      expect((await store.get('k', 61_000)).count).toBe(0);
      await store.increment('k', 60_000, 61_000);
      expect(await store.get('k', 61_000)).toEqual({ count: 1, resetAt: 121_000 });
      await store.delete('k');
      expect((await store.get('k', 61_000)).count).toBe(0);
    });

    it('revoked token store: the first revoke wins, also concurrently', async () => {
      const store = ports.revoked();
      const now = Date.now();
      const first = await Promise.all([
        store.revoke('jti-1', now + 60_000, now),
        store.revoke('jti-1', now + 60_000, now),
      ]);
      expect(first.sort()).toEqual([false, true]);
      expect(await store.revoke('jti-1', now + 60_000, now + 1000)).toBe(false);
      expect(await store.revoke('jti-2', now + 60_000, now)).toBe(true);
    });

    it('revoked token store: a revoked family stays revoked until its deadline (the injected clock decides)', async () => {
      const store = ports.revoked();
      const now = Date.now();
      expect(await store.isFamilyRevoked('fam-1', now)).toBe(false);
      await store.revokeFamily('fam-1', now + 60_000, now);
      expect(await store.isFamilyRevoked('fam-1', now + 59_999)).toBe(true);
      expect(await store.isFamilyRevoked('fam-1', now + 60_000)).toBe(false);
      expect(await store.isFamilyRevoked('fam-2', now)).toBe(false);
    });
  });
});
