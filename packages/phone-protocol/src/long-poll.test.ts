import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pullRequest, SECRET } from '../test/helpers.js';
import {
  createPhoneProtocol,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  type PhoneProtocol,
  type PhoneProtocolOptions,
  type PhoneResponse,
} from './index.js';
import { createManualClock, type ManualClock } from './testing/index.js';

let clock: ManualClock;
let bus: InMemoryCommandBus;
let users: InMemoryUserStore;
let devices: InMemoryDeviceRegistry;
let access: string;

function make(overrides: Partial<PhoneProtocolOptions> = {}): PhoneProtocol {
  return createPhoneProtocol({
    auth: { secret: SECRET },
    users,
    devices,
    commands: bus,
    qrTokens: new InMemoryQrTokenStore(),
    clock,
    pull: { rateLimit: false },
    ...overrides,
  });
}

function pull(protocol: PhoneProtocol, query: Record<string, string>, signal?: AbortSignal): Promise<PhoneResponse> {
  return protocol.handlers.callsPull(pullRequest(access, query, signal));
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves to 'pending' if the promise has not settled after a few I/O turns (JWT checks are truly async). */
async function state<T>(promise: Promise<T>): Promise<T | 'pending'> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  for (let i = 0; i < 20 && !settled; i++) await tick();
  return settled ? promise : 'pending';
}

/** Waits (real I/O turns, fake timers untouched) until `n` polls are held. */
async function held(protocol: PhoneProtocol, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (protocol.stats().heldPolls !== n && Date.now() < deadline) await tick();
  expect(protocol.stats().heldPolls).toBe(n);
}

beforeEach(async () => {
  clock = createManualClock(Date.now());
  bus = new InMemoryCommandBus({ clock, ackTimeoutMs: 5000 });
  users = new InMemoryUserStore();
  devices = new InMemoryDeviceRegistry();
  await createUser(users, { id: 'u1', username: 'operator1', password: 'pw' });
  access = await make().tokens.issue('u1', 'access');
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('long-poll pull', () => {
  it('holds for the default 25 s and answers 204, leaving no timer behind', async () => {
    const protocol = make();
    const res = pull(protocol, {});
    await held(protocol, 1);
    expect(await state(res)).toBe('pending');
    await vi.advanceTimersByTimeAsync(24_900);
    expect(await state(res)).toBe('pending');
    await vi.advanceTimersByTimeAsync(100);
    expect((await res).status).toBe(204);
    expect(protocol.stats().heldPolls).toBe(0);
    expect(bus.subscribedDevices).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect((await devices.get('d1'))?.lastPollCode).toBe(204);
  });

  it('clamps wait_seconds to 30 s and treats garbage as the default', async () => {
    const protocol = make();
    const long = pull(protocol, { wait_seconds: '600' });
    await held(protocol, 1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await state(long)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((await long).status).toBe(204);

    const garbage = pull(protocol, { wait_seconds: 'soon' });
    await held(protocol, 1);
    await vi.advanceTimersByTimeAsync(24_999);
    expect(await state(garbage)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((await garbage).status).toBe(204);
  });

  it('answers a held poll as soon as a command is enqueued', async () => {
    const protocol = make();
    const res = pull(protocol, { wait_seconds: '25' });
    await held(protocol, 1);
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: '12345', phone: '+79991234567', extra: { name: 'Ivan' } });
    const answered = await res; // no timer advanced: the enqueue woke the poll
    expect(answered).toEqual({
      status: 200,
      headers: {},
      body: { id: '12345', phone: '+79991234567', name: 'Ivan', enqueued_at: clock.now() },
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts a held poll as claiming until its first claim comes back from the bus', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const claim = bus.claim.bind(bus);
    // A slow bus (Redis under a burst of polls): the claim answers only when the test opens the gate.
    bus.claim = async (deviceId) => {
      await gate;
      return claim(deviceId);
    };
    const protocol = make();
    const res = pull(protocol, {});
    await held(protocol, 1);
    expect(protocol.stats().claimsInFlight).toBe(1);
    release();
    for (let i = 0; i < 5 && protocol.stats().claimsInFlight > 0; i++) await tick();
    expect(protocol.stats()).toEqual({ heldPolls: 1, claimsInFlight: 0 });
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect((await res).status).toBe(200);
    expect(protocol.stats()).toEqual({ heldPolls: 0, claimsInFlight: 0 });
  });

  it('a second poll for the same device replaces the first (204), and gets the command', async () => {
    const protocol = make();
    const first = pull(protocol, {});
    await held(protocol, 1);
    const second = pull(protocol, {});
    // Resolves without any timer advancing: the replacement answers it.
    expect(await first).toMatchObject({ status: 204 });
    expect(await state(second)).toBe('pending');
    expect(protocol.stats().heldPolls).toBe(1);
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect(((await second) as PhoneResponse).status).toBe(200);
  });

  it('client disconnect (abort) frees the waiter, subscription and timer', async () => {
    const protocol = make();
    const controller = new AbortController();
    const res = pull(protocol, {}, controller.signal);
    await held(protocol, 1);
    expect(bus.subscribedDevices).toBe(1);
    controller.abort();
    expect((await res).status).toBe(204);
    expect(protocol.stats().heldPolls).toBe(0);
    expect(bus.subscribedDevices).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // The command enqueued after the disconnect waits for the next poll instead of being claimed by a ghost.
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect(await bus.size('d1')).toBe(1);
    expect((await pull(protocol, { wait_seconds: '0' })).body).toMatchObject({ id: 'c1' });
  });

  it('two server instances on one bus: a command goes to exactly one held poll', async () => {
    const a = make();
    const b = make();
    const pa = pull(a, {});
    const pb = pull(b, {});
    await held(a, 1);
    await held(b, 1);
    await a.enqueueCommand({ deviceId: 'd1' }, { id: 'only', phone: '+7000' });
    expect(await Promise.race([pa, pb])).toMatchObject({ status: 200 });
    await vi.advanceTimersByTimeAsync(25_000);
    const statuses = [(await pa).status, (await pb).status].sort();
    expect(statuses).toEqual([200, 204]);
  });

  it('re-delivers an unacknowledged command after the ack timeout, even to a held poll', async () => {
    const protocol = make();
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect((await pull(protocol, {})).body).toMatchObject({ id: 'c1' });
    const again = pull(protocol, { wait_seconds: '25' });
    await held(protocol, 1);
    clock.advance(5000);
    await vi.advanceTimersByTimeAsync(5001);
    expect(((await again) as PhoneResponse).body).toMatchObject({ id: 'c1' });
    expect((await bus.get('c1'))?.deliveries).toBe(2);
    // Acked now: never delivered again.
    expect(await bus.ack('c1')).toBeDefined();
    clock.advance(10_000);
    expect((await pull(protocol, { wait_seconds: '0' })).status).toBe(204);
  });

  it('answers 429 with Retry-After when a device polls faster than allowed', async () => {
    const protocol = make({ pull: { rateLimit: { burst: 2, intervalMs: 2000 } } });
    expect((await pull(protocol, { wait_seconds: '0' })).status).toBe(204);
    expect((await pull(protocol, { wait_seconds: '0' })).status).toBe(204);
    const limited = await pull(protocol, { wait_seconds: '0' });
    expect(limited.status).toBe(429);
    expect(limited.headers['Retry-After']).toBe('2');
    clock.advance(2000);
    expect((await pull(protocol, { wait_seconds: '0' })).status).toBe(204);
    expect((await devices.get('d1'))?.lastPollCode).toBe(204);
  });

  it('close() answers every held poll with 204', async () => {
    const protocol = make();
    const res = pull(protocol, {});
    await held(protocol, 1);
    await protocol.close();
    expect((await res).status).toBe(204);
    expect(vi.getTimerCount()).toBe(0);
  });
});
