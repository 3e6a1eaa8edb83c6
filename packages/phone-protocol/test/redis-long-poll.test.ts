import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPhoneProtocol,
  createUser,
  InMemoryQrTokenStore,
  type PhoneProtocol,
  systemClock,
} from '../src/index.js';
import { RedisCommandBus, RedisDeviceRegistry, RedisUserStore } from '../src/redis.js';
import { pullRequest, SECRET, waitFor } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('two instances over Redis', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function instance(prefix: string): Promise<{ protocol: PhoneProtocol; bus: RedisCommandBus }> {
    const redis = new Redis(redisUrl!);
    const bus = new RedisCommandBus({ redis, keyPrefix: prefix, clock: systemClock });
    const protocol = createPhoneProtocol({
      auth: { secret: SECRET },
      users: new RedisUserStore({ redis, keyPrefix: prefix }),
      devices: new RedisDeviceRegistry({ redis, keyPrefix: prefix }),
      commands: bus,
      qrTokens: new InMemoryQrTokenStore(),
    });
    cleanup.push(
      () => redis.quit(),
      () => bus.close(),
      () => protocol.close(),
    );
    await bus.ready();
    return { protocol, bus };
  }

  /** Two instances sharing one key prefix, with user `op` (id `u1`) and an access token for it. */
  async function twoInstances() {
    const prefix = `test:phone:${randomUUID()}:`;
    const a = await instance(prefix);
    const b = await instance(prefix);
    const redis = new Redis(redisUrl!);
    cleanup.push(() => redis.quit());
    await createUser(new RedisUserStore({ redis, keyPrefix: prefix }), { id: 'u1', username: 'op', password: 'pw' });
    return { a, b, access: await a.protocol.tokens.issue('u1', 'access') };
  }

  it('a poll held on instance A is answered at once when instance B enqueues', async () => {
    const { a, b, access } = await twoInstances();
    const started = Date.now();
    const held = a.protocol.handlers.callsPull(pullRequest(access, { wait_seconds: '10' }));
    await waitFor(() => a.protocol.stats().heldPolls === 1);
    await b.protocol.enqueueCommand({ username: 'op' }, { id: 'cmd-1', phone: '+79991234567' });
    const res = await held;
    expect(res).toMatchObject({ status: 200, body: { id: 'cmd-1', phone: '+79991234567' } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await a.bus.size('d1')).toBe(1); // in flight until acknowledged
    const update = await b.protocol.handlers.callsUpdate({
      method: 'POST',
      path: '/api/phone/calls/update/',
      query: {},
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
      body: { call_request_id: 'cmd-1', call_status: 'connected' },
    });
    expect(update.body).toEqual({ ok: true, acknowledged: true });
    expect(await a.bus.size('d1')).toBe(0);
  });

  it('a poll for the same device on instance B answers the one held on instance A with 204', async () => {
    const { a, b, access } = await twoInstances();
    const first = a.protocol.handlers.callsPull(pullRequest(access, { wait_seconds: '20' }));
    await waitFor(() => a.protocol.stats().heldPolls === 1);
    const started = Date.now();
    const second = b.protocol.handlers.callsPull(pullRequest(access, { wait_seconds: '20' }));
    expect((await first).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(a.protocol.stats().heldPolls).toBe(0);
    await waitFor(() => b.protocol.stats().heldPolls === 1);
    await a.protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect((await second).body).toMatchObject({ id: 'c1' });
  });

  it("an older instance's one-device announcement still answers the poll held here with 204", async () => {
    const { a, access } = await twoInstances();
    const held = a.protocol.handlers.callsPull(pullRequest(access, { wait_seconds: '20' }));
    await waitFor(() => a.protocol.stats().heldPolls === 1);
    const publisher = new Redis(redisUrl!);
    cleanup.push(() => publisher.quit());
    const prefix = (a.bus as unknown as { prefix: string }).prefix;
    await publisher.publish(`${prefix}wake`, '\u0001older-instance\u0001d1');
    expect((await held).status).toBe(204);
  });

  it('claims asked for in one event-loop turn share script calls (256 devices each): each device gets its own command exactly once', async () => {
    const { a, b, access } = await twoInstances();
    const devices = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
    for (const deviceId of devices)
      await b.protocol.enqueueCommand({ deviceId }, { id: `c-${deviceId}`, phone: '+7000' });
    const answers = await Promise.all(
      devices.map((device_id) => a.protocol.handlers.callsPull(pullRequest(access, { device_id, wait_seconds: '5' }))),
    );
    expect(answers.map((r) => (r.body as { id: string }).id)).toEqual(devices.map((d) => `c-${d}`));
    const again = await Promise.all(
      devices.map((device_id) => a.protocol.handlers.callsPull(pullRequest(access, { device_id, wait_seconds: '0' }))),
    );
    expect(again.every((r) => r.status === 204)).toBe(true);
    // Straight on the bus: 301 claims in the same turn (the first alone, then batches of 256 and 44), two of them
    // for the same device in one batch.
    const many = Array.from({ length: 300 }, (_, i) => `many-${i}`);
    await Promise.all(many.map((deviceId) => b.bus.enqueue({ id: `d-${deviceId}`, deviceId, phone: '+7000' })));
    const claims = await Promise.all([...many, many[299]!].map((d) => a.bus.claim(d)));
    expect(claims.slice(0, 300).map((c) => c.command?.id)).toEqual(many.map((d) => `d-${d}`));
    expect(claims[300]).toEqual({ retryAt: expect.any(Number) });
  });
});
