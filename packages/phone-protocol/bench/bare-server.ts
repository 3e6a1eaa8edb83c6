/**
 * The floor for any Node server in this benchmark: node:http with held responses in a Map and nothing else (no
 * auth, no command queue, no device records). Same requests and IPC as server.ts, so the gap between this row and
 * nginx + nchan is what Node itself costs, and the gap between this row and phone-protocol is what the protocol adds.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveBenchIpc } from './ipc.js';

const held = new Map<string, ServerResponse>();
const queued = new Map<string, string>();
const serverLatency: number[] = [];
const JSON_HEAD = { 'Content-Type': 'application/json; charset=utf-8' };

function deliver(res: ServerResponse, body: string): void {
  res.writeHead(200, { ...JSON_HEAD, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = req.url ?? '';
  const device = /device(?:_id)?=([^&]*)/.exec(url)?.[1] ?? '';
  if (req.method === 'POST') {
    const arrived = performance.now();
    const id = /[?&]id=([^&]*)/.exec(url)?.[1] ?? '';
    req.resume();
    const body = JSON.stringify({ id, phone: '+79990000000', enqueued_at: Date.now() });
    const poll = held.get(device);
    if (poll) {
      held.delete(device);
      deliver(poll, body);
      if (!id.startsWith('warm')) serverLatency.push(performance.now() - arrived);
    } else queued.set(device, body);
    res.writeHead(202, { 'Content-Length': '0' }).end();
    return;
  }
  const body = queued.get(device);
  if (body !== undefined) {
    queued.delete(device);
    deliver(res, body);
  } else if (url.includes('wait_seconds=0')) {
    res.writeHead(204).end();
  } else {
    held.get(device)?.writeHead(204).end();
    held.set(device, res);
    res.on('close', () => {
      if (held.get(device) === res) held.delete(device);
    });
  }
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', port, token: '', pid: process.pid });
});

serveBenchIpc({ server, held: () => held.size, latency: serverLatency, stop: async () => {} });
