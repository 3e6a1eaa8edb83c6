import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRetailCrmClient,
  RetailCrmAccountNotFoundError,
  RetailCrmRedirectError,
  RetailCrmTimeoutError,
} from '../src/index.js';
import { type FakeRetailCrmServer, startFakeRetailCrmServer } from '../src/testing/index.js';

// Real sockets, no msw: what crosses the network is what is asserted.
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function start(options: Parameters<typeof startFakeRetailCrmServer>[0] = {}): Promise<FakeRetailCrmServer> {
  const server = await startFakeRetailCrmServer(options);
  open.push(server);
  return server;
}

/** Another host: counts every request that reaches it (it must stay 0). */
async function startCountingServer(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"id":1}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

const clientFor = (server: FakeRetailCrmServer, extra: Partial<Parameters<typeof createRetailCrmClient>[0]> = {}) =>
  createRetailCrmClient({ url: server.url, apiKey: server.fake.apiKey, rateLimit: { scope: 'client' }, ...extra });

describe('redirects are never followed', () => {
  it('a 301 to another host sends nothing there and throws the configuration error naming that host', async () => {
    const crm = await start({ users: [{ id: 27 }] });
    const other = await startCountingServer();
    const otherHost = new URL(other.url).host;
    crm.fake.redirectNext(`${other.url}/api/v5/customers/create`, { times: 2 });
    const client = clientFor(crm);

    const error = await client.customers.create({ firstName: 'Ivan' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmRedirectError);
    expect(error).toMatchObject({ code: 'redirect', status: 301, locationHost: otherHost });
    expect((error as Error).message).toContain(otherHost);
    expect((error as Error).message).not.toContain(crm.fake.apiKey);

    await expect(client.users.get(27)).rejects.toBeInstanceOf(RetailCrmRedirectError);
    expect(other.hits()).toBe(0);
    expect(crm.state.customers).toHaveLength(0);
    // Not retried: a redirect is a wrong URL, a second try changes nothing.
    expect(crm.state.requests).toHaveLength(2);
  });

  it('a 302 without Location is still the redirect error', async () => {
    const crm = await start();
    crm.fake.failNext({ status: 302, body: '' });
    await expect(clientFor(crm).credentials()).rejects.toMatchObject({ code: 'redirect', locationHost: '' });
  });
});

describe('the fake as a real HTTP server', () => {
  it('enforces the per-key limit at arrival: a client without pacing gets 503s, nothing over 10 is processed', async () => {
    const crm = await start({ users: [{ id: 1 }] });
    const client = clientFor(crm, { rateLimit: false, retry: false });
    const results = await Promise.allSettled(Array.from({ length: 25 }, () => client.users.get(1)));
    const statuses = crm.state.requests.map((request) => request.status);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(results.filter((result) => result.status === 'fulfilled').length).toBe(
      statuses.filter((status) => status === 200).length,
    );
    // Accepted arrivals never exceed 10 in any 1 s window.
    const accepted = crm.state.requests.filter((request) => request.status === 200).map((request) => request.at);
    for (const at of accepted)
      expect(accepted.filter((other) => other >= at && other < at + 1000).length).toBeLessThanOrEqual(10);
  });

  it('the paced client gets through the same burst without a single 503', async () => {
    const crm = await start({ users: [{ id: 1 }] });
    const client = clientFor(crm, { retry: false });
    await Promise.all(Array.from({ length: 12 }, () => client.users.get(1)));
    expect(crm.state.requests.map((request) => request.status).every((status) => status === 200)).toBe(true);
  });

  it('answers slow on demand (client timeout) and HTML error pages (account does not exist)', async () => {
    const crm = await start({ users: [{ id: 1 }] });
    crm.fake.failNext({ delayMs: 300, path: '/users/1' });
    const client = clientFor(crm, { timeoutMs: 100, retry: false });
    await expect(client.users.get(1)).rejects.toBeInstanceOf(RetailCrmTimeoutError);
    crm.fake.failNext({ status: 404, body: '<!DOCTYPE html><html><body>Not found</body></html>', path: '/users/1' });
    await expect(client.users.get(1)).rejects.toBeInstanceOf(RetailCrmAccountNotFoundError);
    // A delay without status answers normally, only late.
    crm.fake.failNext({ delayMs: 50, path: '/users/1' });
    await expect(clientFor(crm).users.get(1)).resolves.toMatchObject({ user: { id: 1 } });
  });

  it('listens on the port asked for', async () => {
    const probe = await start();
    const port = probe.port;
    await probe.close();
    open.splice(open.indexOf(probe), 1);
    const crm = await start({ port });
    expect(crm.url).toBe(`http://127.0.0.1:${port}`);
    await expect(clientFor(crm).apiVersions()).resolves.toMatchObject({ versions: ['3.0', '4.0', '5.0'] });
  });
});
