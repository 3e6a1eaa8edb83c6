// Lints packed tarballs in one process (TypeScript is loaded once): publint in strict mode (warnings count as
// errors) and Are The Types Wrong (every entry under node10, node16 from CJS and ESM, and bundler resolution).
// `node lint-tarballs.mjs <tarball>...`; prints each problem and exits 1 if there is any.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

let failures = 0;
for (const file of process.argv.slice(2)) {
  const data = new Uint8Array(readFileSync(file));
  const name = basename(file);

  const { messages, pkg } = await publint({ pack: { tarball: data.slice().buffer }, strict: true, level: 'warning' });
  for (const message of messages) {
    failures += 1;
    console.error(`publint ${name}: [${message.type}] ${formatMessage(message, pkg) ?? message.code}`);
  }

  // What neither tool checks: the published manifest is free of workspace-only conditions, and carries the licence
  // text and the metadata npm provenance needs.
  const manifest = JSON.stringify(pkg);
  const own = [
    [manifest.includes('@callbridge/source'), 'the published exports still carry the @callbridge/source condition'],
    [!pkg.repository?.url || !pkg.repository?.directory, 'no repository url/directory'],
    [!pkg.homepage || !pkg.bugs, 'no homepage or bugs'],
    [!(pkg.keywords?.length > 0), 'no keywords'],
  ];
  const tarball = createPackageFromTarballData(data);
  own.push([!tarball.fileExists(`/node_modules/${pkg.name}/LICENSE`), 'no LICENSE file in the tarball']);
  for (const [failed, text] of own) {
    if (!failed) continue;
    failures += 1;
    console.error(`package ${name}: ${text}`);
  }

  const result = await checkPackage(tarball);
  if (!result.types) {
    failures += 1;
    console.error(`attw ${name}: the package ships no types`);
  } else {
    for (const problem of result.problems) {
      failures += 1;
      const where = 'entrypoint' in problem ? ` ${problem.entrypoint} (${problem.resolutionKind})` : '';
      console.error(`attw ${name}:${where} ${problem.kind}`);
    }
  }
  console.log(
    `${name}: publint ${messages.length} problems, attw ${result.types ? result.problems.length : 1} problems`,
  );
}
process.exitCode = failures > 0 ? 1 : 0;
