import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Clock,
  createPhoneProtocol,
  createPullHandler,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  type PhoneProtocol,
  type PullHandlerOptions,
  systemClock,
} from '../src/index.js';
import { parsePullQuery } from '../src/node-http.js';
import { createManualClock } from '../src/testing/index.js';
import { WakeRegistry } from '../src/wake.js';
import { pullRequest, SECRET, waitFor } from './helpers.js';

describe('parsePullQuery', () => {
  it('decodes only device_id and wait_seconds, like querystring.parse', () => {
    expect(parsePullQuery('/api/phone/calls/pull/?device_id=a%20b&wait_seconds=5&x=1')).toEqual({
      device_id: 'a b',
      wait_seconds: '5',
    });
    expect(parsePullQuery('/p?device_id=a+b%2Bc')).toEqual({ device_id: 'a b+c' });
    expect(parsePullQuery('/p?device_id=%zz%41')).toEqual({ device_id: '%zzA' });
    expect(parsePullQuery('/p?device_id=first&device_id=second&wait_seconds')).toEqual({
      device_id: 'first',
      wait_seconds: '',
    });
    expect(parsePullQuery('/p?dev%69ce_id=x')).toEqual({ device_id: 'x' });
    expect(parsePullQuery('/api/phone/calls/pull/')).toEqual({});
    expect(parsePullQuery('/p?')).toEqual({});
    expect(parsePullQuery('/p?&&=v&device_id=a=b&')).toEqual({ device_id: 'a=b' });
    expect(parsePullQuery('/p?wait_seconds=1&device_id=x&device_id=y')).toEqual({ device_id: 'x', wait_seconds: '1' });
  });
});

/** A protocol over in-memory ports with user u1 and no rate limit. */
async function makeProtocol(clock: Clock, bus: InMemoryCommandBus): Promise<PhoneProtocol> {
  const users = new InMemoryUserStore();
  await createUser(users, { id: 'u1', username: 'operator1', password: 'pw' });
  return createPhoneProtocol({
    auth: { secret: SECRET, accessTtlSeconds: 300 },
    users,
    devices: new InMemoryDeviceRegistry(),
    commands: bus,
    qrTokens: new InMemoryQrTokenStore(),
    clock,
    pull: { rateLimit: false },
  });
}

describe('createPullHandler on a plain node:http server', () => {
  let server: Server | undefined;
  let protocol: PhoneProtocol;
  let bus: InMemoryCommandBus;
  afterEach(async () => {
    await protocol?.close();
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  async function start(options?: PullHandlerOptions): Promise<{ url: string; access: string }> {
    bus = new InMemoryCommandBus({ clock: systemClock });
    protocol = await makeProtocol(systemClock, bus);
    const pull = createPullHandler(protocol, options);
    server = createServer((req, res) => pull(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/api/phone/calls/pull/`,
      access: await protocol.tokens.issue('u1', 'access'),
    };
  }

  it("sends the handler's fixed headers with every answer; an answer's own headers win", async () => {
    const { url, access } = await start({ headers: { 'x-content-type-options': 'nosniff', 'www-authenticate': 'x' } });
    const empty = await fetch(`${url}?device_id=d1&wait_seconds=0`, { headers: { authorization: `Bearer ${access}` } });
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-content-type-options')).toBe('nosniff');
    const refused = await fetch(`${url}?device_id=d1`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('answers a held poll with the command as JSON, and a timed-out one with an empty 204', async () => {
    const { url, access } = await start();
    const headers = { authorization: `Bearer ${access}` };
    const held = fetch(`${url}?device_id=d1&wait_seconds=30`, { headers });
    await waitFor(() => protocol.stats().heldPolls === 1);
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000', extra: { name: 'Ivan' } });
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ name: 'Ivan', id: 'c1', phone: '+7000', enqueued_at: expect.any(Number) });

    const empty = await fetch(`${url}?device_id=d1&wait_seconds=0.05`, { headers });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
    expect(protocol.stats().heldPolls).toBe(0);
  });

  it('passes errors through with their headers (401 + WWW-Authenticate, 400 without device_id)', async () => {
    const { url, access } = await start();
    const anonymous = await fetch(`${url}?device_id=d1`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(await anonymous.json()).toMatchObject({ detail: 'Authentication credentials were not provided.' });
    const invalid = await fetch(url, { headers: { authorization: `Bearer ${access}` } });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ device_id: ['This field is required.'] });
  });

  it('a disconnect frees the waiter and its subscription; a later command waits for the next poll', async () => {
    const { url, access } = await start();
    const req = request(`${url}?device_id=d1&wait_seconds=30`, { headers: { authorization: `Bearer ${access}` } });
    req.on('error', () => {});
    req.end();
    await waitFor(() => protocol.stats().heldPolls === 1);
    expect(bus.subscribedDevices).toBe(1);
    req.destroy();
    await waitFor(() => protocol.stats().heldPolls === 0);
    expect(bus.subscribedDevices).toBe(0);
    await protocol.enqueueCommand({ deviceId: 'd1' }, { id: 'c1', phone: '+7000' });
    expect(await bus.size('d1')).toBe(1);
  });
});

describe('verified access-token cache', () => {
  it('a remembered token still expires at its exp, and an altered copy is checked in full', async () => {
    const clock = createManualClock();
    const protocol = await makeProtocol(clock, new InMemoryCommandBus({ clock }));
    const access = await protocol.tokens.issue('u1', 'access');
    const poll = (token: string) => protocol.handlers.callsPull(pullRequest(token, { wait_seconds: '0' }));
    expect((await poll(access)).status).toBe(204);
    const tampered = `${access.slice(0, -2)}${access.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await poll(tampered)).status).toBe(401);
    clock.advance(299_999);
    expect((await poll(access)).status).toBe(204);
    clock.advance(1);
    expect(await poll(access)).toMatchObject({ status: 401, body: { code: 'token_not_valid' } });
  });
});

describe('WakeRegistry', () => {
  it('wakes every listener of a device with its id and forgets exactly the removed one', () => {
    const wakes = new WakeRegistry();
    const seen: string[] = [];
    const a = (id: string) => seen.push(`a:${id}`);
    const b = (id: string) => seen.push(`b:${id}`);
    wakes.addListener('d1', a);
    const removeB = wakes.add('d1', b);
    wakes.addListener('d2', a);
    wakes.wake('d1');
    expect(seen).toEqual(['a:d1', 'b:d1']);
    removeB();
    wakes.wake('d1');
    expect(seen).toEqual(['a:d1', 'b:d1', 'a:d1']);
    wakes.remove('d1', a);
    wakes.remove('d1', a); // a second removal is a no-op
    expect(wakes.size).toBe(1);
    wakes.wakeAll();
    expect(seen.at(-1)).toBe('a:d2');
  });
});
