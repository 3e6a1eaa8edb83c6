import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests (the `@callbridge/source`
// export condition), so the suite never depends on a stale `dist/`.
const sourceCondition = ['@callbridge/source', 'module', 'node', 'development|production'];

const projectDirs = ['packages', 'apps'].flatMap((group) =>
  readdirSync(group, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${group}/${entry.name}`),
);

const resolveFromSource = {
  resolve: { conditions: sourceCondition },
  ssr: { resolve: { conditions: sourceCondition } },
};

export default defineConfig({
  ...resolveFromSource,
  test: {
    // Runs once for the whole run (root config only): one PostgreSQL and one Redis for every project.
    globalSetup: [fileURLToPath(new URL('./scripts/test-services.ts', import.meta.url))],
    projects: projectDirs.map((dir) => ({
      ...resolveFromSource,
      root: dir,
      test: {
        name: dir.split('/')[1],
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 45_000,
        hookTimeout: 120_000,
      },
    })),
  },
});
