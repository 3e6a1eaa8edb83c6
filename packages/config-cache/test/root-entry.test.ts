import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packagesImportedBy, rootEntryReport } from '../../../scripts/import-graph.js';

const packageDir = fileURLToPath(new URL('../', import.meta.url));

describe('the root entry loads no optional peer', () => {
  it('src/index.ts reaches none of pg, @electric-sql/pglite, not even through type imports', () => {
    const report = rootEntryReport(packageDir);
    expect([...report.imported]).toEqual([]); // no dependency at all: pg and PGlite are loaded when used
    expect(report.optionalPeersReached).toEqual([]);
  });

  it('the walk does see a static import of pg (so the check above can fail)', () => {
    expect(packagesImportedBy(`${packageDir}test/pg.integration.test.ts`, { types: false }).has('pg')).toBe(true);
  });
});
