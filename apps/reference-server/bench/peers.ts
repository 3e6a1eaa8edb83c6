import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const APP_DIR = fileURLToPath(new URL('../', import.meta.url));

/** The peer servers of the ingest bench, each its own process (like the server under test). */
const scripts = {
  /** Raw node:http: read the body, JSON.parse it, answer 202. The ceiling on this machine. */
  raw: `
import { createServer } from 'node:http';
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try { JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400).end(); return; }
    const body = '{"ok":true}';
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
`,
  /** Bare Express 5 + express.json: no storage, no auth. */
  express: `
import express from 'express';
const app = express();
app.use(express.json());
app.post('/api/events', (req, res) => { res.status(202).json({ ok: true, n: Object.keys(req.body).length }); });
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
`,
};

export type PeerName = keyof typeof scripts;

/** Starts a peer on `port`; resolves once it listens. */
export async function startPeer(
  name: PeerName,
  port: number,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', scripts[name]], {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} peer exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
