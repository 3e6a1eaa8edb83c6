import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packagesImportedBy, rootEntryReport } from '../../../scripts/import-graph.js';

const packageDir = fileURLToPath(new URL('../', import.meta.url));

describe('the root entry loads no optional peer', () => {
  it('src/index.ts reaches none of ioredis, msw, not even through type imports', () => {
    const report = rootEntryReport(packageDir);
    expect(report.imported.has('zod')).toBe(true); // the walk does reach the real dependencies
    expect(report.optionalPeersReached).toEqual([]);
  });

  it('the ./redis entry is where ioredis comes in', () => {
    expect(packagesImportedBy(`${packageDir}src/redis.ts`, { types: true }).has('ioredis')).toBe(true);
  });
});
