import { defineConfig } from 'tsup';

// The server bundles the workspace packages from source (the `@callbridge/source` export condition),
// so `pnpm start` on a fresh clone does not have to build every package first.
export default defineConfig({
  // PGlite runs in a worker thread of its own (src/storage/pglite-thread.ts finds it next to main.js).
  entry: { main: 'src/main.ts', 'pglite-worker': 'src/storage/pglite-worker.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  clean: true,
  noExternal: [/^@callbridge\//],
  // Only `--demo` loads msw (a dev dependency), lazily.
  external: ['msw', 'msw/node'],
  esbuildOptions(options) {
    options.conditions = ['@callbridge/source'];
  },
});
