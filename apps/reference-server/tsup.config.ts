import { defineConfig } from 'tsup';

// The server bundles the workspace packages from source (the `@callbridge/source` export condition),
// so `pnpm start` on a fresh clone does not have to build every package first.
export default defineConfig({
  entry: { main: 'src/main.ts' },
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
