// Runs a README code block as written, inside a vitest test: the block after a given line is extracted, its
// `@callbridge/<name>` imports are pointed at this workspace's sources (the only change), and it is imported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractSnippets } from './readme-snippets.mjs';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));

/** The first ```ts block after the line `marker` (a heading or a sentence) in `readmePath`. */
export function readmeSnippet(readmePath: string, marker: string): string {
  const readme = readFileSync(readmePath, 'utf8');
  const headingLine = readme.split('\n').findIndex((line) => line.trim() === marker) + 1;
  if (headingLine === 0) throw new Error(`${readmePath}: no line "${marker}"`);
  const snippet = extractSnippets(readme).find((s) => s.line > headingLine);
  if (!snippet) throw new Error(`${readmePath}: no ts block after "${marker}"`);
  return snippet.code;
}

/** Imports (runs) the block; `@callbridge/x` and `@callbridge/x/sub` resolve to packages/x/src. */
export async function runReadmeSnippet(readmePath: string, marker: string): Promise<void> {
  const code = readmeSnippet(readmePath, marker).replace(
    /from '@callbridge\/([a-z-]+)(?:\/([a-z]+))?'/g,
    (_, name: string, sub: string | undefined) =>
      `from '${join(packagesDir, name, 'src', sub ? (sub === 'testing' ? 'testing/index.ts' : `${sub}.ts`) : 'index.ts')}'`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'readme-snippet-'));
  const file = join(dir, 'snippet.ts');
  writeFileSync(file, code);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
