/**
 * The benchmark's control channel to a server process (IPC): `mem` (RSS and heap after two GCs), `stats` (held
 * polls, open connections), `trace` (the server's own delivery latencies) and `stop`. Shared by every Node server
 * the benchmark starts, so each is measured the same way.
 */
import type { Server } from 'node:http';

export interface BenchServerControl {
  server: Server;
  /** Polls held right now and idle (their first claim answered), as the peers count a held subscriber. */
  held(): number;
  /** Publish received -> the poll's answer written, per measured delivery (ms). */
  latency: readonly number[];
  /** Closes what the server owns besides its sockets (protocol, bus, Redis). */
  stop(): Promise<void>;
}

export function serveBenchIpc(control: BenchServerControl): void {
  const { server } = control;
  // The benchmark process went away (killed, time limit): do not linger as an orphan holding sockets.
  process.on('disconnect', () => process.exit(0));
  const connections = () => new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n ?? 0)));
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'mem') {
      // Two GCs: the first may only schedule finalisers.
      globalThis.gc?.();
      globalThis.gc?.();
      const mem = process.memoryUsage();
      process.send?.({
        type: 'mem',
        held: control.held(),
        connections: await connections(),
        heapUsed: mem.heapUsed,
        rss: mem.rss,
      });
    } else if (message.type === 'stats') {
      process.send?.({ type: 'stats', held: control.held(), connections: await connections() });
    } else if (message.type === 'trace') {
      process.send?.({ type: 'trace', latency: control.latency });
    } else if (message.type === 'stop') {
      await control.stop();
      server.closeAllConnections();
      server.close();
      process.exit(0);
    }
  });
}
