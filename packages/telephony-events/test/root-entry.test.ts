import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { optionalPeers, packagesImportedBy } from '../../../scripts/import-graph.js';

const file = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const peers = optionalPeers(file('package.json'));

describe('the root entry loads no optional peer', () => {
  it('src/index.ts reaches none of bullmq, ioredis, not even through type imports', () => {
    const imported = packagesImportedBy(file('src/index.ts'), { types: true });
    expect(imported.has('zod')).toBe(true); // the walk does reach the real dependencies
    expect(peers.filter((peer) => imported.has(peer))).toEqual([]);
  });

  it('the ./redis entry is where bullmq and ioredis come in', () => {
    const imported = packagesImportedBy(file('src/redis.ts'), { types: false });
    expect(['bullmq', 'ioredis'].filter((peer) => imported.has(peer))).toEqual(['bullmq', 'ioredis']);
  });
});
