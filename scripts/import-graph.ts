// Which packages a module pulls in: follows the relative imports and re-exports of a TypeScript source file and
// collects the bare package names it reaches. Used by each package's root-entry test ("the root entry loads no
// optional peer"). Dynamic `import()` is not followed: loading a peer lazily, when a feature is used, is allowed.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportGraphOptions {
  /** Also follow type-only imports (`import type`, `{ type X }`): what the entry's `.d.ts` will reference. */
  types: boolean;
}

/** The package name of a bare specifier (`@scope/name/sub` -> `@scope/name`); node: builtins are left out. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return false; // side-effect import
    if (clause.isTypeOnly) return true;
    const bindings = clause.namedBindings;
    return (
      clause.name === undefined &&
      bindings !== undefined &&
      ts.isNamedImports(bindings) &&
      bindings.elements.length > 0 &&
      bindings.elements.every((element) => element.isTypeOnly)
    );
  }
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return (
    clause !== undefined &&
    ts.isNamedExports(clause) &&
    clause.elements.length > 0 &&
    clause.elements.every((element) => element.isTypeOnly)
  );
}

/** Bare package names reachable from `entry` (an absolute path to a `.ts` file) through static imports. */
export function packagesImportedBy(entry: string, options: ImportGraphOptions): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const specifier = statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      if (!options.types && isTypeOnly(statement)) continue;
      const text = specifier.text;
      if (text.startsWith('.')) visit(resolve(dirname(file), text.replace(/\.js$/, '.ts')));
      else {
        const name = packageName(text);
        if (name) packages.add(name);
      }
    }
  };
  visit(entry);
  return packages;
}

/** The optional peer dependencies a package declares. */
export function optionalPeers(packageJsonPath: string): string[] {
  const pkg = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  return Object.entries(pkg.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta.optional === true)
    .map(([name]) => name);
}

/** What a package's root entry (`src/index.ts`) reaches, including type imports, and which optional peers of it. */
export function rootEntryReport(packageDir: string): { imported: Set<string>; optionalPeersReached: string[] } {
  const imported = packagesImportedBy(resolve(packageDir, 'src/index.ts'), { types: true });
  const peers = optionalPeers(resolve(packageDir, 'package.json'));
  return { imported, optionalPeersReached: peers.filter((peer) => imported.has(peer)) };
}
