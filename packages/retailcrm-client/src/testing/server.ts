import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeRetailCrm, type FakeRetailCrm, type FakeRetailCrmOptions } from './fake-retailcrm.js';

/** {@link FakeRetailCrmOptions} (the URL comes from the server) plus where to listen. */
export interface FakeRetailCrmServerOptions extends Omit<FakeRetailCrmOptions, 'url'> {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1` (loopback only). */
  host?: string;
}

/** A running {@link startFakeRetailCrmServer}; `close()` it when the test is done. */
export interface FakeRetailCrmServer {
  /** `http://127.0.0.1:<port>`: the account URL to give the client (a loopback `http:` URL is accepted). */
  readonly url: string;
  /** The port it listens on (the one picked when `port` was 0). */
  readonly port: number;
  /** The fake account behind the server: `failNext`, `reset`, `requestsTo`, … */
  readonly fake: FakeRetailCrm;
  /** Same object as `fake.state`. */
  readonly state: FakeRetailCrm['state'];
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  return headers;
}

/**
 * The fake RetailCRM as a real HTTP server on a port: for clients in other processes (msw only intercepts the
 * process it runs in) and for anything where the network hop matters, such as pacing. Each request is stamped
 * when its headers arrive, before the body is read, so the rate limit counts arrivals as a server does.
 */
export async function startFakeRetailCrmServer(options: FakeRetailCrmServerOptions = {}): Promise<FakeRetailCrmServer> {
  const { port: wantedPort = 0, host = '127.0.0.1', ...fakeOptions } = options;
  const clock = fakeOptions.clock ?? { now: () => Date.now() };
  let fake: FakeRetailCrm | undefined;

  const server = createServer((req, res) => {
    const arrivedAt = clock.now();
    readBody(req)
      .then(async (body) => {
        const current = fake as FakeRetailCrm;
        const method = req.method ?? 'GET';
        const request = new Request(`${current.url}${req.url ?? '/'}`, {
          method,
          headers: toHeaders(req),
          ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
        });
        const response = await current.handle(request, arrivedAt);
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          if (name !== 'content-length' && name !== 'transfer-encoding') headers[name] = value;
        });
        res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => {
        // A fake that cannot answer must look broken, never hang the caller.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"success":false,"errorMsg":"fake server error"}');
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  fake = createFakeRetailCrm({ ...fakeOptions, clock, url });
  return {
    url,
    port,
    fake,
    state: fake.state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
