import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Standalone config: the ingest bench needs the throw-away PostgreSQL of the test global setup, nothing else.
// The benches' throw-away PostgreSQL flushes its WAL like a production one (the tests' instance runs with fsync off).
process.env.TEST_PG_FSYNC ??= 'on';
const conditions = ['@callbridge/source', 'module', 'node', 'development|production'];
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.bench.ts'],
    globalSetup: [fileURLToPath(new URL('../../../scripts/test-services.ts', import.meta.url))],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
