import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Standalone config: the benchmark starts its own redis-server, so it skips the root global setup.
export default defineConfig({
  resolve: { conditions: ['@callbridge/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@callbridge/source', 'module', 'node', 'development|production'] } },
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.bench.ts'],
    testTimeout: 120_000,
  },
});
