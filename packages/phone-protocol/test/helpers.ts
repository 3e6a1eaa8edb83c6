import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPhoneRouter } from '../src/express.js';
import {
  type Clock,
  createPhoneProtocol,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  type PhoneProtocol,
  type PhoneProtocolOptions,
  type PhoneRequest,
  systemClock,
} from '../src/index.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123';

export interface TestServer {
  protocol: PhoneProtocol;
  url: string;
  bus: InMemoryCommandBus;
  devices: InMemoryDeviceRegistry;
  users: InMemoryUserStore;
  close(): Promise<void>;
}

/** Protocol + Express router on a loopback port, with one user `operator1` / `secret-pass` (id `u1`). */
export async function startServer(
  overrides: Partial<PhoneProtocolOptions> & { clock?: Clock; ackTimeoutMs?: number } = {},
): Promise<TestServer> {
  const clock = overrides.clock ?? systemClock;
  const users = new InMemoryUserStore();
  const devices = new InMemoryDeviceRegistry();
  const bus = new InMemoryCommandBus({ clock, ackTimeoutMs: overrides.ackTimeoutMs ?? 60_000 });
  await createUser(users, { id: 'u1', username: 'operator1', password: 'secret-pass', isAdmin: true });
  await createUser(users, { id: 'u2', username: 'operator2', password: 'other-pass' });
  const protocol = createPhoneProtocol({
    auth: { secret: SECRET },
    users,
    devices,
    commands: bus,
    qrTokens: new InMemoryQrTokenStore(),
    clock,
    ...overrides,
  });
  const app = express();
  app.use(createPhoneRouter(protocol));
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    protocol,
    url: `http://127.0.0.1:${port}`,
    bus,
    devices,
    users,
    async close() {
      await protocol.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A `calls/pull` request for the framework-free handlers. */
export function pullRequest(access: string, query: Record<string, string>, signal?: AbortSignal): PhoneRequest {
  return {
    method: 'GET',
    path: '/api/phone/calls/pull/',
    query: { device_id: 'd1', ...query },
    headers: { authorization: `Bearer ${access}` },
    body: undefined,
    ...(signal ? { signal } : {}),
  };
}
