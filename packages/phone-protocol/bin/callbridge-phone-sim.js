#!/usr/bin/env node
// The `callbridge-phone-sim` command. A published package runs its build (dist/bin/phone-sim.js). In a repository
// checkout (src/ is there and tsup is installed) it compiles the TypeScript sources first, so the command works
// right after `pnpm install` with no build step, and never runs a stale dist/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const source = join(packageDir, 'src', 'bin', 'phone-sim.ts');

/** Bundles the CLI from source and runs it; false when no build tool is installed. */
async function runFromSource() {
  let build;
  try {
    ({ build } = await import('tsup'));
  } catch {
    return false;
  }
  // Inside the package's node_modules, so the bundle's imports (zod, jose) resolve to the package's dependencies.
  const cacheDir = join(packageDir, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const outDir = mkdtempSync(join(cacheDir, 'phone-sim-'));
  try {
    await build({
      entry: { 'phone-sim': source },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      config: false,
      silent: true,
      dts: false,
      external: ['zod', 'jose', 'ioredis', 'express'],
    });
    await import(pathToFileURL(join(outDir, 'phone-sim.js')).href);
  } finally {
    rmSync(outDir, { recursive: true, force: true }); // already loaded: the module lives on in memory
  }
  return true;
}

if (!(existsSync(source) && (await runFromSource()))) {
  try {
    await import('../dist/bin/phone-sim.js');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write(
      'callbridge-phone-sim: the package is not built; run `pnpm --filter @callbridge/phone-protocol build`\n',
    );
    process.exitCode = 1;
  }
}
