import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from './helpers.js';
import { freePort } from './support/net.js';
import { rawRequest } from './support/routes.js';
import { buildServerBundle, type ServerProcess, spawnServerProcess } from './support/server-process.js';

// The real server in its own process: an error escaping a request would end it, which an in-process test
// cannot see (it would take the test runner down, or be swallowed by it).

const PUBLIC_KEY = 'crash-public-key-0123456789';
const TRUNCATED = Buffer.from('--zz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc');

describe('the server process survives hostile requests', () => {
  let bundle: Awaited<ReturnType<typeof buildServerBundle>>;
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildServerBundle();
    dataDir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
    server = spawnServerProcess('crash', bundle.mainJs, await freePort(), {
      ...testEnv,
      DATA_DIR: dataDir,
      PUBLIC_KEY,
      WA_WEB_TOKEN: 'crash-internal-token-0123',
      SHUTDOWN_TIMEOUT_MS: '200',
    });
    await server.ready(120_000);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    bundle?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const alive = async () => {
    expect(server.child.exitCode, server.output()).toBeNull();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  };

  it('a truncated multipart upload on /pub/catalog/upload is a 4xx, and the server still answers /health', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await rawRequest(
        `${server.url}/pub/catalog/upload?tenant=2&k=${PUBLIC_KEY}`,
        'POST',
        { 'content-type': 'multipart/form-data; boundary=zz' },
        TRUNCATED,
      );
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.json?.error).toBeTypeOf('string');
      await alive();
    }
  });

  it('a client that disappears in the middle of an upload', async () => {
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /pub/catalog/upload?tenant=2&k=${PUBLIC_KEY} HTTP/1.1\r\nHost: x\r\n` +
            'Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100000\r\n\r\n',
        );
        socket.write(TRUNCATED);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    await alive();
  });

  it('raw bytes the HTTP parser refuses get a JSON 400 with a code', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write('GET /api/config/\x01\xff HTTP/1.1\r\n\r\n'),
      );
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"error":"malformed_request"');
    await alive();
  });

  it('--demo refuses NODE_ENV=production (exit 1, nothing listens)', async () => {
    const port = await freePort();
    const demo = spawnServerProcess(
      'demo-prod',
      bundle.mainJs,
      port,
      { ...testEnv, NODE_ENV: 'production', DATA_DIR: dataDir },
      ['--demo'],
    );
    expect(await demo.exited).toBe(1);
    expect(demo.output()).toMatch(/--demo .* cannot run with NODE_ENV=production/);
  });
});
