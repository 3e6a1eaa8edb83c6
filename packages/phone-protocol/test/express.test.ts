import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryCommandBus, systemClock } from '../src/index.js';
import { startServer, type TestServer, waitFor } from './helpers.js';

let server: TestServer;
afterEach(async () => server.close());

describe('Express router', () => {
  it('frees the held poll when the client disconnects (res close before writableEnded)', async () => {
    server = await startServer({ pull: { rateLimit: false } });
    const access = await server.protocol.tokens.issue('u1', 'access');
    const req = request(`${server.url}/api/phone/calls/pull/?device_id=d1&wait_seconds=30`, {
      headers: { authorization: `Bearer ${access}` },
    });
    req.on('error', () => {});
    req.end();
    await waitFor(() => server.protocol.stats().heldPolls === 1);
    req.destroy();
    await waitFor(() => server.protocol.stats().heldPolls === 0);
    // The command enqueued after the disconnect stays queued for the next poll.
    await server.protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect(await server.bus.size('d1')).toBe(1);
    const res = await fetch(`${server.url}/api/phone/calls/pull/?device_id=d1&wait_seconds=0`, {
      headers: { authorization: `Bearer ${access}` },
    });
    expect(await res.json()).toEqual({ id: 'c1', phone: '+7000', enqueued_at: expect.any(Number) });
  });

  it('many disconnected polls leave no waiter, subscription or timer behind (counted)', async () => {
    server = await startServer({ pull: { rateLimit: false } });
    const access = await server.protocol.tokens.issue('u1', 'access');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const requests = Array.from({ length: 20 }, (_, i) => {
      const req = request(`${server.url}/api/phone/calls/pull/?device_id=dev-${i}&wait_seconds=30`, {
        headers: { authorization: `Bearer ${access}` },
      });
      req.on('error', () => {});
      req.end();
      return req;
    });
    await waitFor(() => server.protocol.stats().heldPolls === 20);
    expect(server.bus.subscribedDevices).toBe(20);
    // Each held poll owns one timeout; unrelated timers (keep-alive, other tests) may come and go meanwhile.
    const during = timers();
    expect(during).toBeGreaterThanOrEqual(20);
    for (const req of requests) req.destroy();
    await waitFor(() => server.protocol.stats().heldPolls === 0);
    expect(server.bus.subscribedDevices).toBe(0);
    await waitFor(() => timers() <= during - 20);
  });

  it('wait_seconds=0 returns a queued command even when the bus answers slowly (no 0 ms timer race)', async () => {
    // A bus whose claim takes a network round trip, like Redis under load.
    class SlowBus extends InMemoryCommandBus {
      override async claim(deviceId: string) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return super.claim(deviceId);
      }
    }
    const bus = new SlowBus({ clock: systemClock });
    server = await startServer({ pull: { rateLimit: false }, commands: bus });
    const access = await server.protocol.tokens.issue('u1', 'access');
    await server.protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'queued', phone: '+7000' });
    const res = await fetch(`${server.url}/api/phone/calls/pull/?device_id=d1&wait_seconds=0`, {
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'queued' });
  });

  it('serves 204 with an empty body and 429 with a Retry-After header', async () => {
    server = await startServer({ pull: { rateLimit: { burst: 1, intervalMs: 5000 } } });
    const access = await server.protocol.tokens.issue('u1', 'access');
    const url = `${server.url}/api/phone/calls/pull/?device_id=d1&wait_seconds=0`;
    const first = await fetch(url, { headers: { authorization: `Bearer ${access}` } });
    expect(first.status).toBe(204);
    expect(await first.text()).toBe('');
    const second = await fetch(url, { headers: { authorization: `Bearer ${access}` } });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('5');
  });

  it('tolerates a missing trailing slash (Express non-strict routing)', async () => {
    server = await startServer();
    const res = await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator1', password: 'secret-pass' }),
    });
    expect(res.status).toBe(200);
  });
});
