import { randomUUID } from 'node:crypto';
import type { CommandBus, CommandBusOptions } from '../command-bus.js';
import type { DeviceRecord, DeviceRegistry } from '../devices.js';
import type { LoginAttemptStore } from '../login-throttle.js';
import type { QrTokenStore } from '../qr-tokens.js';
import type { RevokedTokenStore } from '../revoked-tokens.js';
import type { UserStore } from '../users.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

/** The parts of vitest (or jest) the suites use; passed in so this module does not depend on a test runner. */
export interface PortSuiteApi {
  /** Groups the suite's tests. */
  describe(name: string, fn: () => void): void;
  /** Declares one test. */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The runner's `expect` (the suites use `toBe`, `toEqual`, `toMatchObject`, `toHaveLength`, `toBeUndefined`). */
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic.
  expect: (value: unknown) => any;
  /** Runs after each test (the command bus suite closes its buses there). */
  afterEach(fn: () => Promise<void>): void;
}

/**
 * Makes a fresh store for one test. Stores may share their backing database between tests: every test uses ids
 * of its own, and no test counts what it did not write.
 */
export type PortFactory<T> = () => T | Promise<T>;

/**
 * Makes a command bus with these options (the suite's {@link ManualClock} is `options.clock`). Resolve it once it
 * is ready to deliver wake-ups (a Redis bus: after `ready()`).
 */
export type CommandBusFactory = (options: CommandBusOptions) => CommandBus | Promise<CommandBus>;

const START = 1_800_000_000_000;
/** A prefix unique to one test, so implementations backed by a shared database can run the suites. */
const scope = (): ((id: string) => string) => {
  const run = randomUUID().slice(0, 8);
  return (id) => `${run}-${id}`;
};

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * The {@link CommandBus} conformance suite: FIFO per device, idempotent enqueue, one claimer per delivery,
 * re-delivery after the ack deadline, dead letter after `maxDeliveries`, release to the head, wake-ups per device.
 * `registerCommandBusSuite({describe, it, expect, afterEach}, 'mine', (options) => new MyBus(options))`.
 */
export function registerCommandBusSuite(t: PortSuiteApi, name: string, factory: CommandBusFactory): void {
  const { describe, it, expect, afterEach } = t;
  describe(`CommandBus contract: ${name}`, () => {
    const open: CommandBus[] = [];
    const make = async (clock: ManualClock, ackTimeoutMs: number, extra: Partial<CommandBusOptions> = {}) => {
      const bus = await factory({ clock, ackTimeoutMs, ...extra });
      open.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((bus) => bus.close()));
    });

    it('FIFO per device, idempotent enqueue returning the stored command, exactly one claimer', async () => {
      const id = scope();
      const clock = createManualClock(START);
      const bus = await make(clock, 10_000);
      const first = await bus.enqueue({ id: id('a'), deviceId: id('d1'), phone: '+1' });
      expect(first).toMatchObject({ id: id('a'), phone: '+1', deliveries: 0, enqueuedAt: START });
      await bus.enqueue({ id: id('b'), deviceId: id('d1'), phone: '+2', extra: { crm: 'retail' } });
      expect(await bus.enqueue({ id: id('a'), deviceId: id('d1'), phone: 'other' })).toMatchObject({ phone: '+1' });
      await bus.enqueue({ id: id('x'), deviceId: id('d2'), phone: '+9' });
      expect(await bus.size(id('d1'))).toBe(2);
      const claims = await Promise.all(Array.from({ length: 5 }, () => bus.claim(id('d1'))));
      const got = claims.flatMap((c) => (c.command ? [c.command] : []));
      expect(got.map((c) => c.id).sort()).toEqual([id('a'), id('b')]);
      expect(got.find((c) => c.id === id('b'))).toMatchObject({ phone: '+2', deliveries: 1, extra: { crm: 'retail' } });
      // Nothing claimable: the earliest re-delivery time is reported.
      expect(await bus.claim(id('d1'))).toEqual({ retryAt: START + 10_000 });
      expect((await bus.claim(id('d2'))).command?.id).toBe(id('x'));
    });

    it('re-delivers unacknowledged commands after the timeout; ack is idempotent', async () => {
      const id = scope();
      const clock = createManualClock(START);
      const bus = await make(clock, 10_000);
      await bus.enqueue({ id: id('c1'), deviceId: id('d1'), phone: '+1' });
      expect((await bus.claim(id('d1'))).command?.deliveries).toBe(1);
      clock.advance(9_999);
      expect((await bus.claim(id('d1'))).command).toBeUndefined();
      clock.advance(1);
      const again = await bus.claim(id('d1'));
      expect(again.command).toMatchObject({ id: id('c1'), deliveries: 2 });
      const acks = await Promise.all([bus.ack(id('c1')), bus.ack(id('c1'))]);
      expect(acks.filter(Boolean)).toHaveLength(1);
      expect(await bus.ack(id('c1'))).toBeUndefined();
      expect(await bus.get(id('c1'))).toBeUndefined();
      clock.advance(60_000);
      expect(await bus.claim(id('d1'))).toEqual({});
      expect(await bus.size(id('d1'))).toBe(0);
    });

    it('drops a command after maxDeliveries unacknowledged deliveries and reports it', async () => {
      const id = scope();
      const clock = createManualClock(START);
      const dead: string[] = [];
      const bus = await make(clock, 1000, { maxDeliveries: 2, onDeadLetter: (c) => dead.push(c.id) });
      await bus.enqueue({ id: id('never-acked'), deviceId: id('d1'), phone: '+1' });
      await bus.enqueue({ id: id('next'), deviceId: id('d1'), phone: '+2' });
      expect((await bus.claim(id('d1'))).command?.id).toBe(id('never-acked'));
      expect((await bus.claim(id('d1'))).command?.id).toBe(id('next'));
      clock.advance(1000);
      expect((await bus.claim(id('d1'))).command).toMatchObject({ id: id('never-acked'), deliveries: 2 });
      await bus.ack(id('next'));
      clock.advance(1000);
      expect(await bus.claim(id('d1'))).toEqual({});
      expect(dead).toEqual([id('never-acked')]);
      expect(await bus.size(id('d1'))).toBe(0);
    });

    it('release puts a claimed command back at the head; ack of a queued command removes it', async () => {
      const id = scope();
      const bus = await make(createManualClock(START), 10_000);
      await bus.enqueue({ id: id('c1'), deviceId: id('d1'), phone: '+1' });
      await bus.enqueue({ id: id('c2'), deviceId: id('d1'), phone: '+2' });
      await bus.enqueue({ id: id('c3'), deviceId: id('d1'), phone: '+3' });
      const first = await bus.claim(id('d1'));
      await bus.release(first.command!.id);
      expect((await bus.claim(id('d1'))).command).toMatchObject({ id: id('c1'), deliveries: 2 });
      expect(await bus.ack(id('c3'))).toMatchObject({ id: id('c3') });
      expect((await bus.claim(id('d1'))).command?.id).toBe(id('c2'));
      expect((await bus.claim(id('d1'))).command).toBeUndefined();
    });

    it('subscribers are woken on enqueue and release for their device only', async () => {
      const id = scope();
      const bus = await make(createManualClock(START), 10_000);
      const woken: string[] = [];
      const off1 = bus.subscribe(id('d1'), () => woken.push('d1'));
      const off2 = bus.subscribe(id('d2'), () => woken.push('d2'));
      await bus.enqueue({ id: id('w1'), deviceId: id('d1'), phone: '+1' });
      await eventually(() => woken.length > 0);
      expect(woken).toEqual(['d1']);
      const claimed = await bus.claim(id('d1'));
      await bus.release(claimed.command!.id);
      await eventually(() => woken.length > 1);
      expect(woken).toEqual(['d1', 'd1']);
      off1();
      off2();
      await bus.enqueue({ id: id('w2'), deviceId: id('d1'), phone: '+1' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(woken).toEqual(['d1', 'd1']);
    });
  });
}

/** The {@link UserStore} conformance suite: lookups by id and username, a rename moves the username index. */
export function registerUserStoreSuite(t: PortSuiteApi, name: string, factory: PortFactory<UserStore>): void {
  const { describe, it, expect } = t;
  describe(`UserStore contract: ${name}`, () => {
    it('finds by id and username; save replaces by id and a rename keeps the index right', async () => {
      const id = scope();
      const users = await factory();
      const user = { id: id('1'), username: id('op'), passwordHash: 'scrypt$x', isAdmin: false, isActive: true };
      await users.save(user);
      await users.save({ ...user, id: id('2'), username: id('other') });
      expect(await users.findByUsername(id('op'))).toMatchObject(user);
      await users.save({ ...user, username: id('op2'), isActive: false });
      expect(await users.findByUsername(id('op'))).toBeUndefined();
      expect(await users.findById(id('1'))).toMatchObject({ username: id('op2'), isActive: false });
      expect(await users.findByUsername(id('other'))).toMatchObject({ id: id('2') });
      expect(await users.findById(id('nope'))).toBeUndefined();
    });
  });
}

/** The {@link DeviceRegistry} conformance suite: put/get/list, ownership by (tenant, user) on `claim`, release. */
export function registerDeviceRegistrySuite(t: PortSuiteApi, name: string, factory: PortFactory<DeviceRegistry>): void {
  const { describe, it, expect } = t;
  describe(`DeviceRegistry contract: ${name}`, () => {
    it('put/get/list by user; re-assignment moves the device', async () => {
      const id = scope();
      const devices = await factory();
      const base: DeviceRecord = {
        deviceId: id('d1'),
        userId: id('u1'),
        registeredAt: 1,
        lastSeenAt: 1,
        queueStuck: false,
        stuckCount: 0,
        stuckByType: { telemetry: 2 },
      };
      await devices.put(base);
      await devices.put({ ...base, deviceId: id('d2') });
      expect((await devices.listByUser(id('u1'))).map((d) => d.deviceId).sort()).toEqual([id('d1'), id('d2')]);
      await devices.put({ ...base, userId: id('u2') });
      expect((await devices.listByUser(id('u1'))).map((d) => d.deviceId)).toEqual([id('d2')]);
      expect(await devices.get(id('d1'))).toEqual({ ...base, userId: id('u2') });
      const mine = (await devices.list()).filter((d) => d.deviceId.startsWith(id('')));
      expect(mine).toHaveLength(2);
    });

    it('claim is bound to (tenant, user); only a release frees the device', async () => {
      const id = scope();
      const devices = await factory();
      const base: DeviceRecord = {
        deviceId: id('d1'),
        userId: id('u1'),
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
      expect(await devices.claim({ ...base, userId: id('u9'), tenant: '2002', lastSeenAt: 3 })).toBe(false);
      expect(await devices.claim({ ...base, tenant: '2002', lastSeenAt: 3 })).toBe(false);
      const { tenant: _t, ...untenanted } = base;
      expect(await devices.claim({ ...untenanted, lastSeenAt: 3 })).toBe(false);
      expect(await devices.get(id('d1'))).toEqual({ ...base, lastSeenAt: 2 });
      expect(await devices.listByUser(id('u9'))).toEqual([]);
      // Two concurrent claimers of a free device: exactly one wins.
      const race = await Promise.all([
        devices.claim({ ...base, deviceId: id('d2'), userId: id('a') }),
        devices.claim({ ...base, deviceId: id('d2'), userId: id('b') }),
      ]);
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await devices.release(id('d1'))).toEqual({ ...base, lastSeenAt: 2 });
      expect(await devices.get(id('d1'))).toBeUndefined();
      expect(await devices.listByUser(id('u1'))).toEqual([]);
      expect(await devices.release(id('d1'))).toBeUndefined();
      expect(await devices.claim({ ...base, userId: id('u9'), tenant: '2002' })).toBe(true);
      expect((await devices.listByUser(id('u9'))).map((d) => d.deviceId)).toEqual([id('d1')]);
    });
  });
}

/** The {@link QrTokenStore} conformance suite: single use (also concurrently), expiry by the caller's clock. */
export function registerQrTokenStoreSuite(t: PortSuiteApi, name: string, factory: PortFactory<QrTokenStore>): void {
  const { describe, it, expect } = t;
  describe(`QrTokenStore contract: ${name}`, () => {
    it('a token is taken once, also concurrently; an expired one never', async () => {
      const id = scope();
      const qr = await factory();
      await qr.put(id('digest1'), 'u1', 2000, 60_000);
      const takes = await Promise.all([qr.take(id('digest1'), 1000), qr.take(id('digest1'), 1000)]);
      expect(takes.filter(Boolean)).toEqual(['u1']);
      await qr.put(id('digest2'), 'u1', 2000, 60_000);
      expect(await qr.take(id('digest2'), 1999)).toBe('u1');
      await qr.put(id('digest3'), 'u1', 2000, 60_000);
      expect(await qr.take(id('digest3'), 2000)).toBeUndefined();
      expect(await qr.take(id('unknown'), 0)).toBeUndefined();
    });
  });
}

/** The {@link LoginAttemptStore} conformance suite: atomic counts in a fixed window from the first failure. */
export function registerLoginAttemptStoreSuite(
  t: PortSuiteApi,
  name: string,
  factory: PortFactory<LoginAttemptStore>,
): void {
  const { describe, it, expect } = t;
  describe(`LoginAttemptStore contract: ${name}`, () => {
    it('counts atomically in a fixed window from the first failure; delete clears', async () => {
      const id = scope();
      const store = await factory();
      expect(await store.get(id('k'), 1000)).toEqual({ count: 0, resetAt: 1000 });
      await Promise.all([store.increment(id('k'), 60_000, 1000), store.increment(id('k'), 60_000, 1000)]);
      await store.increment(id('k'), 60_000, 30_000);
      expect(await store.get(id('k'), 30_000)).toEqual({ count: 3, resetAt: 61_000 });
      expect(await store.get(id('other'), 30_000)).toEqual({ count: 0, resetAt: 30_000 });
      // Expired window: the next failure starts a new one.
      expect((await store.get(id('k'), 61_000)).count).toBe(0);
      await store.increment(id('k'), 60_000, 61_000);
      expect(await store.get(id('k'), 61_000)).toEqual({ count: 1, resetAt: 121_000 });
      await store.delete(id('k'));
      expect((await store.get(id('k'), 61_000)).count).toBe(0);
    });
  });
}

/** The {@link RevokedTokenStore} conformance suite: first revoke wins, families revoked until their deadline. */
export function registerRevokedTokenStoreSuite(
  t: PortSuiteApi,
  name: string,
  factory: PortFactory<RevokedTokenStore>,
): void {
  const { describe, it, expect } = t;
  describe(`RevokedTokenStore contract: ${name}`, () => {
    it('the first revoke of a jti wins, also concurrently', async () => {
      const id = scope();
      const store = await factory();
      const now = Date.now();
      const first = await Promise.all([
        store.revoke(id('jti-1'), now + 60_000, now),
        store.revoke(id('jti-1'), now + 60_000, now),
      ]);
      expect(first.sort()).toEqual([false, true]);
      expect(await store.revoke(id('jti-1'), now + 60_000, now + 1000)).toBe(false);
      expect(await store.revoke(id('jti-2'), now + 60_000, now)).toBe(true);
    });

    it('a revoked family stays revoked until its deadline (the caller’s clock decides)', async () => {
      const id = scope();
      const store = await factory();
      const now = Date.now();
      expect(await store.isFamilyRevoked(id('fam-1'), now)).toBe(false);
      await store.revokeFamily(id('fam-1'), now + 60_000, now);
      expect(await store.isFamilyRevoked(id('fam-1'), now + 59_999)).toBe(true);
      expect(await store.isFamilyRevoked(id('fam-1'), now + 60_000)).toBe(false);
      expect(await store.isFamilyRevoked(id('fam-2'), now)).toBe(false);
    });
  });
}
