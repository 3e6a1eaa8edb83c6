// Extracts the TypeScript code blocks of every package README into standalone modules, so they can be compiled
// like any consumer code (pack-check compiles them against the packed tarballs, strict settings).
// A block that is a fragment gets its missing context from an HTML comment right above it, invisible on GitHub
// and npm:  <!-- snippet-context: declare const redis: import('ioredis').Redis; -->
// A block that is an outline rather than code says so the same way, with its reason:
// <!-- snippet-skip: an outline of the interface, not code -->
// `node scripts/readme-snippets.mjs <out-dir>` writes <out-dir>/readme-<package>-<n>.mts and prints the count.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Packages whose README is not checked yet (none at the moment): give the fragments of a new package's README
// their snippet-context lines rather than adding it here.
const UNCHECKED = new Set();

/** `{ name, code, context, line }` for every ```ts block of a Markdown text. */
export function extractSnippets(markdown) {
  const snippets = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    // A block may be indented (inside a list item); its comments and code then carry the same indent.
    const fence = /^( *)```(ts|typescript)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const indent = fence[1];
    const start = i;
    const skipped = start > 0 && /^ *<!-- snippet-skip: .+ -->$/.test(lines[start - 1]);
    const context = [];
    for (let j = start - 1; j >= 0 && /^ *<!-- snippet-context: .* -->$/.test(lines[j]); j -= 1) {
      context.unshift(lines[j].replace(/^ *<!-- snippet-context: /, '').replace(/ -->$/, ''));
    }
    const code = [];
    for (i += 1; i < lines.length && !/^ *```\s*$/.test(lines[i]); i += 1) {
      code.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    }
    if (!skipped) snippets.push({ code: code.join('\n'), context: context.join('\n'), line: start + 1 });
  }
  return snippets;
}

const outDir = process.argv[2];
if (outDir) {
  mkdirSync(outDir, { recursive: true });
  let count = 0;
  for (const name of readdirSync(join(root, 'packages'))) {
    if (UNCHECKED.has(name)) continue;
    const readme = join(root, 'packages', name, 'README.md');
    let text;
    try {
      text = readFileSync(readme, 'utf8');
    } catch {
      continue;
    }
    for (const [index, snippet] of extractSnippets(text).entries()) {
      const header = `// packages/${name}/README.md line ${snippet.line}\n`;
      // Each block is its own module; `export {}` keeps it one even when the block has no import.
      const body = `${header}${snippet.context}\n${snippet.code}\nexport {};\n`;
      writeFileSync(join(outDir, `readme-${name}-${index + 1}.mts`), body);
      count += 1;
    }
  }
  console.log(`${count} README snippets`);
}
