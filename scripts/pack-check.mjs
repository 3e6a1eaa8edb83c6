#!/usr/bin/env node
// Packaging check (CI runs it after the tests): builds and packs every package, lints the tarballs (publint, Are The
// Types Wrong), installs them with npm into a project outside the monorepo, then imports every public entry as ESM,
// requires it as CommonJS, checks that root entries load no optional peer, and compiles the type-level tests
// (pack-check/types.*) plus an import of every entry under strict settings with bundler, node16 and node10
// resolution. Exits non-zero on the first failure. `--no-build` reuses dist/; KEEP_PACK_CHECK=1 keeps the temp dir.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'scripts', 'pack-check');
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'callbridge-pack-check-'));
const tarballs = join(work, 'tarballs');
const consumer = join(work, 'consumer');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({
    dir: join(root, 'packages', entry.name),
    pkg: readJson(join(root, 'packages', entry.name, 'package.json')),
  }))
  .filter(({ pkg }) => !pkg.private);

function log(step) {
  console.log(`[pack-check ${((Date.now() - started) / 1000).toFixed(0)}s] ${step}`);
}

/** Runs a command; on failure prints its output and throws. */
async function sh(cmd, args, options = {}) {
  try {
    return await run(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    process.stderr.write(`\n$ ${cmd} ${args.join(' ')}\n${error.stdout ?? ''}${error.stderr ?? ''}\n`);
    throw new Error(`pack-check: ${cmd} ${args.join(' ')} failed`);
  }
}

/** Runs tasks with at most `limit` at a time (the CI machine has 2 cores). */
async function pool(tasks, limit = 2) {
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (queue.length) await queue.shift()();
    }),
  );
}

try {
  if (!process.argv.includes('--no-build')) {
    log('build');
    await sh('pnpm', ['-r', '--filter', './packages/*', 'run', 'build'], { cwd: root });
  }

  log('pack');
  mkdirSync(tarballs, { recursive: true });
  for (const { dir } of packages) await sh('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  const files = readdirSync(tarballs).map((file) => join(tarballs, file));
  if (files.length !== packages.length) throw new Error(`pack-check: expected ${packages.length} tarballs`);

  log('publint + attw');
  log((await sh('node', [join(fixtures, 'lint-tarballs.mjs'), ...files], { cwd: root })).stdout.trim());

  log('install the tarballs with npm into a fresh project');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`);
  const devVersion = (name) => {
    for (const { pkg } of packages) if (pkg.devDependencies?.[name]) return pkg.devDependencies[name];
    return readJson(join(root, 'package.json')).devDependencies[name];
  };
  // Every optional peer (so each subpath can load) plus the compiler and Node's types, at the versions we test with.
  const peers = new Set(packages.flatMap(({ pkg }) => Object.keys(pkg.peerDependencies ?? {})));
  for (const skip of ['pg', '@electric-sql/pglite']) peers.delete(skip); // loaded lazily; types not referenced
  const extra = [...peers, '@types/express', 'typescript', '@types/node'].map((name) => `${name}@${devVersion(name)}`);
  await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...files, ...extra], {
    cwd: consumer,
  });

  const entries = packages.flatMap(({ pkg }) =>
    Object.keys(pkg.exports)
      .filter((sub) => sub !== './package.json')
      .map((sub) => ({
        specifier: sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`,
        // Root entries must work without any optional peer installed.
        forbidden:
          sub === '.'
            ? Object.keys(pkg.peerDependenciesMeta ?? {}).filter((p) => pkg.peerDependenciesMeta[p].optional)
            : [],
      })),
  );

  log(`ESM import and CJS require of ${entries.length} entries`);
  for (const file of ['forbid-peers.mjs', 'runtime.mjs', 'runtime.cjs', 'pg-missing.mjs', 'types.mts', 'types.cts']) {
    copyFileSync(join(fixtures, file), join(consumer, file));
  }
  await pool(
    entries.flatMap(({ specifier, forbidden }) => [
      async () => log((await sh('node', ['runtime.mjs', specifier, ...forbidden], { cwd: consumer })).stdout.trim()),
      async () => log((await sh('node', ['runtime.cjs', specifier, ...forbidden], { cwd: consumer })).stdout.trim()),
    ]),
  );

  log((await sh('node', ['pg-missing.mjs'], { cwd: consumer })).stdout.trim());
  // Now the remaining optional peers, which README snippets import.
  const late = ['pg', '@types/pg', '@electric-sql/pglite'].map((name) => `${name}@${devVersion(name)}`);
  await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...late], {
    cwd: consumer,
  });

  log('TypeScript: every entry, the type-level tests and the README snippets (strict, exactOptionalPropertyTypes)');
  const alias = (i) => `entry${i}`;
  writeFileSync(
    join(consumer, 'entries.mts'),
    entries.map(({ specifier }, i) => `export * as ${alias(i)} from '${specifier}';\n`).join(''),
  );
  writeFileSync(
    join(consumer, 'entries.cts'),
    entries
      .map(({ specifier }, i) => `import ${alias(i)} = require('${specifier}');\nexport { ${alias(i)} };\n`)
      .join(''),
  );
  writeFileSync(
    join(consumer, 'entries-no-testing.mts'),
    entries
      .map(({ specifier }, i) =>
        specifier.endsWith('/testing') ? '' : `export * as ${alias(i)} from '${specifier}';\n`,
      )
      .join(''),
  );
  writeFileSync(
    join(consumer, 'entries-node10.ts'),
    entries.map(({ specifier }, i) => `export * as ${alias(i)} from '${specifier}';\n`).join(''),
  );
  const strict = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    skipLibCheck: true,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
  };
  // Every ```ts block of every package README, as a module of its own (see scripts/readme-snippets.mjs).
  log((await sh('node', [join(root, 'scripts', 'readme-snippets.mjs'), join(consumer, 'snippets')])).stdout.trim());
  const projects = {
    'tsconfig.bundler.json': { module: 'preserve', moduleResolution: 'bundler', files: ['entries.mts', 'types.mts'] },
    'tsconfig.node16.json': {
      module: 'node16',
      moduleResolution: 'node16',
      files: ['entries.mts', 'entries.cts', 'types.mts', 'types.cts'],
    },
    'tsconfig.node10.json': {
      module: 'commonjs',
      moduleResolution: 'node10',
      esModuleInterop: true,
      files: ['entries-node10.ts'],
    },
    'tsconfig.readme.json': { module: 'preserve', moduleResolution: 'bundler', include: ['snippets/*.mts'] },
    // Our own declaration files checked too (skipLibCheck off). The ./testing entries are left out: msw's typings
    // need the DOM lib and fail this check on their own.
    'tsconfig.declarations.json': {
      module: 'preserve',
      moduleResolution: 'bundler',
      skipLibCheck: false,
      files: ['entries-no-testing.mts'],
    },
  };
  for (const [name, { files: list, include, ...options }] of Object.entries(projects)) {
    const project = { compilerOptions: { ...strict, ...options }, ...(list ? { files: list } : { include }) };
    writeFileSync(join(consumer, name), JSON.stringify(project, null, 2));
  }
  await pool(
    Object.keys(projects).map((name) => async () => {
      await sh('npx', ['tsc', '-p', name], { cwd: consumer });
      log(`tsc -p ${name}: ok`);
    }),
  );

  log('the installed callbridge-phone-sim bin');
  const help = await sh('npx', ['callbridge-phone-sim', '--help'], { cwd: consumer });
  if (!help.stdout.startsWith('Usage: callbridge-phone-sim'))
    throw new Error('pack-check: phone-sim --help printed no usage');
  const bad = await run(
    'npx',
    ['callbridge-phone-sim', '--url', 'http://127.0.0.1:9', '--user', 'u', '--password', 'p', '--devices', '0'],
    { cwd: consumer },
  ).then(
    () => ({ code: 0 }),
    (error) => error,
  );
  if (bad.code !== 2) throw new Error(`pack-check: phone-sim --devices 0 exited ${bad.code}, expected 2`);

  log('all packages pass');
} catch (error) {
  console.error(`${error.message}\n(work directory: ${work})`);
  process.exitCode = 1;
} finally {
  if (!process.env.KEEP_PACK_CHECK && process.exitCode !== 1) rmSync(work, { recursive: true, force: true });
}
