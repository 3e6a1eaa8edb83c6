/**
 * Benchmark server process: the phone protocol on loopback, controlled over IPC by long-poll.bench.ts (so the
 * client's memory never pollutes the server's measurement). BENCH_HTTP=express (default) mounts the Express
 * router like the reference server does; BENCH_HTTP=node routes the pull to the node:http handler directly.
 * `POST /bench/enqueue?device=..&id=..` is the publish side, an HTTP hop like nchan's publisher.
 */
import { createServer, type IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { createPhoneRouter } from '../src/express.js';
import {
  type CommandBus,
  createPhoneProtocol,
  createPullHandler,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  PULL_PATH,
  systemClock,
} from '../src/index.js';
import { RedisCommandBus } from '../src/redis.js';
import { serveBenchIpc } from './ipc.js';

/**
 * The server's own part of a delivery: publish request handed to us -> the poll's answer written to its socket
 * (the rest of the client's figure is the kernel, the event-loop wake-ups and the client itself).
 */
const publishedAt = new Map<string, number>();
const serverLatency: number[] = [];
function traceWrites(): void {
  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    const result = (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    const url = this.req?.url;
    if (this.statusCode === 200 && url?.startsWith(PULL_PATH)) {
      const device = /device_id=([^&]*)/.exec(url)?.[1] ?? '';
      const at = publishedAt.get(device);
      if (at !== undefined) {
        serverLatency.push(performance.now() - at);
        publishedAt.delete(device);
      }
    }
    return result;
  } as typeof end;
}

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
    // Polls held for 90 s: on a loaded machine holding 10k may take longer than the default 30 s clamp.
    pull: { rateLimit: false, maxWaitSeconds: 90 },
  });

  traceWrites();
  // The publisher's 202 goes out after this turn of the event loop, so a held poll woken by the command is answered
  // first (nchan also answers the subscribers before the publisher); the 202 still follows the durable enqueue.
  const accepted = (res: ServerResponse) => setImmediate(() => res.writeHead(202, { 'Content-Length': '0' }).end());
  const enqueue = (req: IncomingMessage, res: ServerResponse): void => {
    const arrived = performance.now();
    const url = req.url ?? '';
    const query = new URLSearchParams(url.slice(url.indexOf('?') + 1));
    const deviceId = query.get('device') ?? '';
    const id = query.get('id') ?? '';
    if (!id.startsWith('warm')) publishedAt.set(deviceId, arrived);
    req.resume();
    protocol.enqueueCommand({ deviceId }, { id, phone: '+79990000000' }).then(
      () => accepted(res),
      () => res.writeHead(500, { 'Content-Length': '0' }).end(),
    );
  };
  const app = express();
  app.post('/bench/enqueue', enqueue);
  app.use(createPhoneRouter(protocol));
  const pull = createPullHandler(protocol);
  const mode = process.env.BENCH_HTTP ?? 'express';
  const server =
    mode === 'node'
      ? createServer((req, res) => {
          if (req.method === 'GET' && req.url?.startsWith(PULL_PATH)) pull(req, res);
          else if (req.url?.startsWith('/bench/enqueue')) enqueue(req, res);
          else app(req, res);
        })
      : createServer(app);
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', async () => {
    const { port } = server.address() as AddressInfo;
    const token = await protocol.tokens.issue('u1', 'access');
    process.send?.({ type: 'ready', port, token, pid: process.pid });
  });

  serveBenchIpc({
    server,
    // A poll counts once it is idle: its first claim came back (with Redis, a burst of claims takes a while).
    held: () => {
      const { heldPolls, claimsInFlight } = protocol.stats();
      return heldPolls - claimsInFlight;
    },
    latency: serverLatency,
    stop: async () => {
      await protocol.close();
      await bus.close();
      await redis?.quit();
    },
  });
}

void main();
