import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free loopback TCP port (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Socket inode of the TCP connection whose local port is `localPort` (Linux /proc). */
function socketInode(localPort: number): string | undefined {
  const hex = localPort.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(`:${hex}`)) return cols[9];
    }
  }
  return undefined;
}

/**
 * Which of `pids` owns the outgoing connection from `localPort` (Linux only; undefined elsewhere).
 * Tells the tests which server process is delivering a request the fake CRM holds.
 */
export function pidOwningConnection(localPort: number, pids: number[]): number | undefined {
  const inode = socketInode(localPort);
  if (!inode) return undefined;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}
