import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { optionalPeers, packagesImportedBy } from '../../../scripts/import-graph.js';

const file = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const peers = optionalPeers(file('package.json'));

describe('the root entry loads no optional peer', () => {
  it('src/index.ts reaches none of pg, @electric-sql/pglite, not even through type imports', () => {
    const imported = packagesImportedBy(file('src/index.ts'), { types: true });
    expect(peers).toEqual(['pg', '@electric-sql/pglite']);
    expect([...imported]).toEqual([]); // no dependency at all: pg and PGlite are loaded lazily, when used
  });

  it('the walk does see a static import of pg (so the check above can fail)', () => {
    expect(packagesImportedBy(file('test/pg.integration.test.ts'), { types: false }).has('pg')).toBe(true);
  });
});
