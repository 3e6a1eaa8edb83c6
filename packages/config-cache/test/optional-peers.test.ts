import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

describe('optional peers', () => {
  it('no source file imports pg or PGlite statically (users of one need not install the other)', () => {
    const files = readdirSync(srcDir).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(`${srcDir}${file}`, 'utf8');
      expect(text, file).not.toMatch(/^import[^;]*from\s+'(pg|@electric-sql\/pglite)'/m);
      expect(text, file).not.toMatch(/require\(\s*'(pg|@electric-sql\/pglite)'\s*\)/);
    }
  });

  it('pg is only ever loaded with a dynamic import', () => {
    const text = readFileSync(`${srcDir}pg-listen-source.ts`, 'utf8');
    expect(text).toContain("import('pg')");
  });
});
