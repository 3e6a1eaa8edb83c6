import { testEnv } from '../helpers.js';
import type { FakeCrmServer } from './fake-crm-server.js';
import { fastDeliveryEnv, hangupEvent, postJson } from './fixtures.js';
import { type ServerProcess, spawnServerProcess } from './server-process.js';

export interface CrashRunResult {
  /** Ids answered 202 before the kill. */
  accepted: string[];
  /** Ids whose request got no answer or another status (the PBX would retry them). */
  unanswered: string[];
  /** Distinct accepted calls RetailCRM had when the process was killed. */
  deliveredBeforeKill: number;
  /** Stored calls per accepted id once recovered (RetailCRM keeps one per externalId). */
  stored: Map<string, number>;
  /** Upload requests beyond one per accepted id: deliveries cut by the kill and re-sent. */
  resentUploads: number;
  /** From the restart until every accepted call was in RetailCRM. */
  recoveryMs: number;
  procs: ServerProcess[];
}

/**
 * Posts `n` hangups (`concurrency` at a time) to a `node main.js` on PGlite in `dataDir`, SIGKILLs it after
 * `killAfter` answers (default: after the last), restarts it on the same data and waits until every event answered
 * 202 is in the fake RetailCRM (or `timeoutMs` passes).
 */
export async function crashAndRecover(options: {
  mainJs: string;
  crm: FakeCrmServer;
  dataDir: string;
  port: number;
  n: number;
  concurrency: number;
  killAfter?: number;
  timeoutMs: number;
}): Promise<CrashRunResult> {
  const { crm, n } = options;
  const env = { ...testEnv, ...fastDeliveryEnv, LOG_LEVEL: 'warn', DATA_DIR: options.dataDir };
  const procs: ServerProcess[] = [];
  const first = spawnServerProcess('first', options.mainJs, options.port, env);
  procs.push(first);
  await first.ready(60_000);

  const ids = Array.from({ length: n }, (_, i) => `crash.${Date.now()}.${i}`);
  const accepted: string[] = [];
  const killAfter = options.killAfter ?? n;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    first.kill('SIGKILL');
  };
  let next = 0;
  const sender = async () => {
    while (next < n && !killed) {
      const id = ids[next++] as string;
      const r = await postJson(`${first.url}/api/events`, hangupEvent(id)).catch(() => undefined);
      if (r?.status === 202 && !killed) {
        accepted.push(id);
        if (accepted.length >= killAfter) kill();
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, sender));
  kill();
  await first.exited;
  const acceptedSet = new Set(accepted);
  const deliveredBeforeKill = new Set(
    crm.fake.state.uploadedCalls.map((c) => String(c.externalId)).filter((id) => acceptedSet.has(id)),
  ).size;

  const restartedAt = Date.now();
  const second = spawnServerProcess('second', options.mainJs, options.port, env);
  procs.push(second);
  await second.ready(60_000);
  const stored = () => {
    const counts = new Map<string, number>();
    for (const c of crm.fake.state.uploadedCalls) {
      const id = String(c.externalId);
      if (acceptedSet.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };
  const until = restartedAt + options.timeoutMs;
  while (stored().size < accepted.length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  const recoveryMs = Date.now() - restartedAt;
  // Every accepted id named in a successful upload request (ids are matched whole: `.1` is not `.10`).
  let uploads = 0;
  for (const r of crm.fake.state.requests) {
    if (r.path !== '/telephony/calls/upload' || r.status !== 200) continue;
    for (const m of JSON.stringify(r.form ?? {}).matchAll(/crash\.\d+\.\d+/g)) if (acceptedSet.has(m[0])) uploads++;
  }
  return {
    accepted,
    unanswered: ids.filter((id) => !acceptedSet.has(id)),
    deliveredBeforeKill,
    stored: stored(),
    resentUploads: Math.max(0, uploads - accepted.length),
    recoveryMs,
    procs,
  };
}
