/**
 * Benchmark server process: the phone protocol behind the Express router on loopback, controlled over IPC
 * by long-poll.bench.ts (so the client side's memory never pollutes the server's measurement).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { createPhoneRouter } from '../src/express.js';
import {
  type CommandBus,
  createPhoneProtocol,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  systemClock,
} from '../src/index.js';
import { RedisCommandBus } from '../src/redis.js';

type Message =
  | { type: 'mem' }
  | { type: 'stats' }
  | { type: 'enqueue'; deviceId: string; id: string }
  | { type: 'stop' };

async function main(): Promise<void> {
  const redisUrl = process.env.BENCH_REDIS_URL;
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  const bus: CommandBus = redis
    ? new RedisCommandBus({ redis, keyPrefix: `bench:${process.pid}:${Date.now()}:`, clock: systemClock })
    : new InMemoryCommandBus({ clock: systemClock });
  if (bus instanceof RedisCommandBus) await bus.ready();
  const users = new InMemoryUserStore();
  await createUser(users, { id: 'u1', username: 'bench', password: 'bench-password' });
  const protocol = createPhoneProtocol({
    auth: { secret: 'bench-secret-bench-secret-bench-secret!!', accessTtlSeconds: 3600 },
    users,
    devices: new InMemoryDeviceRegistry(),
    commands: bus,
    qrTokens: new InMemoryQrTokenStore(),
    pull: { rateLimit: false },
  });
  const app = express();
  app.use(createPhoneRouter(protocol));
  const server = app.listen(0, '127.0.0.1', async () => {
    const { port } = server.address() as AddressInfo;
    const token = await protocol.tokens.issue('u1', 'access');
    process.send?.({ type: 'ready', port, token });
  });
  server.maxConnections = 20_000;
  server.keepAliveTimeout = 60_000;

  process.on('message', async (message: Message) => {
    if (message.type === 'mem') {
      // Two GCs: the first may only schedule finalisers.
      globalThis.gc?.();
      globalThis.gc?.();
      const mem = process.memoryUsage();
      process.send?.({ type: 'mem', heldPolls: protocol.stats().heldPolls, heapUsed: mem.heapUsed, rss: mem.rss });
    } else if (message.type === 'stats') {
      process.send?.({ type: 'stats', heldPolls: protocol.stats().heldPolls });
    } else if (message.type === 'enqueue') {
      await protocol.enqueueCommand({ deviceId: message.deviceId }, { id: message.id, phone: '+79990000000' });
    } else if (message.type === 'stop') {
      await protocol.close();
      server.closeAllConnections();
      server.close();
      await bus.close();
      await redis?.quit();
      process.exit(0);
    }
  });
}

void main();
