import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPhoneProtocol,
  createUser,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  systemClock,
} from '../src/index.js';
import { RedisCommandBus } from '../src/redis.js';
import { pullRequest, SECRET, waitFor } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('Redis wake-up subscriber reconnect', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
  });

  it('a command enqueued while the subscriber was disconnected reaches the held poll after the reconnect', async () => {
    const prefix = `test:phone:${randomUUID()}:`;
    const name = `cb-reconnect-${randomUUID().slice(0, 8)}`;
    // The subscriber is a duplicate of this connection: same name, and a reconnect delay wide enough to enqueue in.
    const redis = new Redis(redisUrl!, { connectionName: name, retryStrategy: () => 400 });
    const admin = new Redis(redisUrl!);
    const bus = new RedisCommandBus({ redis, keyPrefix: prefix, clock: systemClock });
    const producer = new RedisCommandBus({ redis: admin, keyPrefix: prefix, clock: systemClock });
    const users = new InMemoryUserStore();
    await createUser(users, { id: 'u1', username: 'op', password: 'pw' });
    const protocol = createPhoneProtocol({
      auth: { secret: SECRET },
      users,
      devices: new InMemoryDeviceRegistry(),
      commands: bus,
      qrTokens: new InMemoryQrTokenStore(),
    });
    cleanup.push(
      () => redis.quit(),
      () => admin.quit(),
      () => bus.close(),
      () => producer.close(),
      () => protocol.close(),
    );
    await bus.ready();
    const access = await protocol.tokens.issue('u1', 'access');
    const held = protocol.handlers.callsPull(pullRequest(access, { wait_seconds: '8' }));
    await waitFor(() => protocol.stats().heldPolls === 1);

    const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const id = clients
      .split('\n')
      .find((line) => line.includes(`name=${name} `))
      ?.match(/\bid=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await admin.call('CLIENT', 'KILL', 'ID', id!);
    const started = Date.now();
    // Published while nobody of this bus listens: this wake-up is lost.
    await producer.enqueue({ id: 'gap', deviceId: 'd1', phone: '+7000' });

    const res = await held;
    expect(res).toMatchObject({ status: 200, body: { id: 'gap' } });
    // Answered after the reconnect (~400 ms), not by the poll's 8 s timeout.
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
