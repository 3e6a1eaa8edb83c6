import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (ms) per thread of a process, from /proc (Linux); empty elsewhere. Clock ticks are 10 ms. */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(`${tid}:${name}`, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // thread gone
    }
  }
  return out;
}

/**
 * CPU a process spent between two samples: in total and in its busiest thread (on 2 cores the busiest thread, the
 * event loop, bounds throughput). Unlike req/s, CPU per request barely moves when other work loads the machine.
 */
export function cpuBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): { totalMs: number; busiestMs: number } {
  let totalMs = 0;
  let busiestMs = 0;
  for (const [tid, ms] of after) {
    const d = ms - (before.get(tid) ?? 0);
    totalMs += d;
    busiestMs = Math.max(busiestMs, d);
  }
  return { totalMs, busiestMs };
}
