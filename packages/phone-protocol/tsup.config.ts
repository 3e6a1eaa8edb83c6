import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Both builds write into dist/, so it is emptied once here rather than by each build (they run in parallel).
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

const shared = { sourcemap: true, clean: false, target: 'node20', external: ['ioredis', 'express'] } as const;

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      express: 'src/express.ts',
      redis: 'src/redis.ts',
      testing: 'src/testing/index.ts',
      wake: 'src/wake.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
  },
  // The CLI behind bin/callbridge-phone-sim.js: ESM only and no typings (nothing imports it).
  { ...shared, entry: { 'bin/phone-sim': 'src/bin/phone-sim.ts' }, format: ['esm'], dts: false },
]);
