import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createFakeRetailCrm,
  type FakeRetailCrm,
  type FakeRetailCrmOptions,
} from '@callbridge/retailcrm-client/testing';
import { getResponse } from 'msw';

/** A request the fake is holding back (the sender sees a CRM that does not answer yet). */
export interface HeldRequest {
  path: string;
  /** The sender's local port: tells which process sent it (see `pidOwningConnection`). */
  remotePort: number;
  /** Lets the request through to the fake (a no-op when the sender is gone). */
  release(): void;
}

export interface FakeCrmServer {
  /** `http://127.0.0.1:<port>`: put it into the enterprise's `domain`. */
  url: string;
  fake: FakeRetailCrm;
  /** Down: every request's connection is cut before the fake sees it (nothing is recorded). */
  setDown(down: boolean): void;
  /** Holds the next request whose path (after `/api/v5`) matches; resolves when it arrives. */
  holdNext(path: RegExp): Promise<HeldRequest>;
  /** Requests cut while down. */
  refused(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Serves the msw fake RetailCRM over a real loopback HTTP server, so server processes other than the
 * test process reach the same fake (msw's `setupServer` only patches the process it runs in).
 */
export async function startFakeCrmServer(
  options: Omit<FakeRetailCrmOptions, 'url'> & {
    /** Time each answer takes after the fake handled the request (RetailCRM's own processing and the network). */
    latencyMs?: () => number;
  } = {},
): Promise<FakeCrmServer> {
  const { latencyMs, ...fakeOptions } = options;
  let fake: FakeRetailCrm | undefined;
  let down = false;
  let refused = 0;
  const holds: Array<{ path: RegExp; resolve: (h: HeldRequest) => void }> = [];

  const forward = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const f = fake as FakeRetailCrm;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v);
      else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    }
    const method = req.method ?? 'GET';
    const request = new Request(`${f.url}${req.url ?? '/'}`, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    });
    const response = await getResponse(f.handlers, request);
    if (!response) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"success":false,"errorMsg":"no handler"}');
      return;
    }
    const out = Buffer.from(await response.arrayBuffer());
    const delay = latencyMs?.() ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const h: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'transfer-encoding') h[k] = v;
    });
    res.writeHead(response.status, h).end(out);
  };

  const server = createServer((req, res) => {
    if (down) {
      refused++;
      req.socket.destroy();
      return;
    }
    readBody(req).then(
      (body) => {
        const path = (req.url ?? '').replace(/^\/api\/v5/, '').split('?')[0] ?? '';
        const i = holds.findIndex((h) => h.path.test(path));
        if (i >= 0) {
          const [hold] = holds.splice(i, 1);
          hold?.resolve({
            path,
            remotePort: req.socket.remotePort ?? 0,
            release: () => {
              if (!req.socket.destroyed) forward(req, res, body).catch(() => req.socket.destroy());
            },
          });
          return;
        }
        forward(req, res, body).catch(() => req.socket.destroy());
      },
      () => req.socket.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake = createFakeRetailCrm({ rateLimit: false, ...fakeOptions, url });
  return {
    url,
    fake,
    setDown: (d) => {
      down = d;
    },
    holdNext: (path) => new Promise((resolve) => holds.push({ path, resolve })),
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
