/**
 * Worker-thread entry: owns the PGlite instance so its WebAssembly work runs beside the HTTP event loop instead of
 * blocking it. Started by `pglite-thread.ts` with `workerData = { dataDir }` (undefined: in memory).
 */
import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type PgliteRequest, type PgliteResponse, serializeError } from './pglite-thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('pglite-worker must run in a worker thread');
const { dataDir } = workerData as { dataDir?: string };
if (dataDir) mkdirSync(dataDir, { recursive: true });
const db = dataDir ? new PGlite(dataDir) : new PGlite();

interface OpenTx {
  tx: Transaction;
  decide(commit: boolean): void;
  done: Promise<void>;
}
const txs = new Map<number, OpenTx>();
const unlisteners = new Map<string, () => Promise<void>>();
let nextTx = 1;
/** Thrown inside the transaction callback so PGlite rolls back. */
const ROLLBACK = Symbol('rollback');

const reply = (m: PgliteResponse) => port.postMessage(m);

async function begin(): Promise<number> {
  const id = nextTx++;
  let entered!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  let decide!: (commit: boolean) => void;
  const decided = new Promise<boolean>((r) => {
    decide = r;
  });
  const done = db.transaction(async (tx) => {
    txs.set(id, { tx, decide, done });
    entered();
    if (!(await decided)) throw ROLLBACK;
  });
  // BEGIN itself may fail: then `done` rejects before the callback ran.
  await Promise.race([inside, done]);
  return id;
}

async function finish(id: number, commit: boolean): Promise<void> {
  const open = txs.get(id);
  if (!open) throw new Error(`no open transaction ${id}`);
  txs.delete(id);
  open.decide(commit);
  try {
    await open.done;
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
}

async function handle(m: PgliteRequest): Promise<PgliteResponse> {
  switch (m.op) {
    case 'query': {
      const target = m.tx === undefined ? db : txs.get(m.tx)?.tx;
      if (!target) throw new Error(`no open transaction ${m.tx}`);
      return { id: m.id, ok: true, rows: (await target.query(m.sql, m.params)).rows };
    }
    case 'exec': {
      const target = m.tx === undefined ? db : txs.get(m.tx)?.tx;
      if (!target) throw new Error(`no open transaction ${m.tx}`);
      await target.exec(m.sql);
      return { id: m.id, ok: true };
    }
    case 'begin':
      return { id: m.id, ok: true, tx: await begin() };
    case 'commit':
    case 'rollback':
      await finish(m.tx, m.op === 'commit');
      return { id: m.id, ok: true };
    case 'listen':
      if (!unlisteners.has(m.channel)) {
        const channel = m.channel;
        unlisteners.set(channel, await db.listen(channel, (payload) => reply({ notify: channel, payload })));
      }
      return { id: m.id, ok: true };
    case 'unlisten':
      await unlisteners.get(m.channel)?.();
      unlisteners.delete(m.channel);
      return { id: m.id, ok: true };
    case 'close':
      await db.close();
      return { id: m.id, ok: true };
  }
}

port.on('message', (m: PgliteRequest) => {
  handle(m).then(reply, (error) => reply({ id: m.id, ok: false, error: serializeError(error) }));
});
db.waitReady.then(
  () => reply({ id: 0, ok: true }),
  (error) => reply({ id: 0, ok: false, error: serializeError(error) }),
);
