import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRetailCrmClient, RetailCrmValidationError } from '../src/index.js';

const src = fileURLToPath(new URL('../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('package shape', () => {
  it('only src/testing imports msw (the main entry works without it)', () => {
    const importers = files(src)
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .filter((file) => /from ['"]msw/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(src, file));
    expect(importers.length).toBeGreaterThan(0);
    expect(importers.every((file) => file.startsWith('testing'))).toBe(true);
  });

  it('normalises the account URL and refuses unusable options', () => {
    expect(createRetailCrmClient({ url: 'https://demo.retailcrm.ru/api/v5/', apiKey: 'k' }).url).toBe(
      'https://demo.retailcrm.ru',
    );
    expect(() => createRetailCrmClient({ url: 'demo.retailcrm.ru', apiKey: 'k' })).toThrow(RetailCrmValidationError);
    expect(() => createRetailCrmClient({ url: 'ftp://demo.retailcrm.ru', apiKey: 'k' })).toThrow(/http or https/);
    expect(() => createRetailCrmClient({ url: 'https://u:p@demo.retailcrm.ru', apiKey: 'k' })).toThrow(/credentials/);
    expect(() => createRetailCrmClient({ url: 'https://demo.retailcrm.ru', apiKey: '' })).toThrow(/apiKey/);
    expect(() => createRetailCrmClient({ url: 'https://demo.retailcrm.ru', apiKey: '   ' })).toThrow(/Missing/);
  });

  it('refuses a key fetch cannot send in a header, without echoing the key', () => {
    const key = 'ключ-secret-0123456789';
    let error: unknown;
    try {
      createRetailCrmClient({ url: 'https://demo.retailcrm.ru', apiKey: key });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RetailCrmValidationError);
    expect(String(error)).not.toContain('secret-0123456789');
    expect(JSON.stringify(error)).not.toContain('secret-0123456789');
    expect(() => createRetailCrmClient({ url: 'https://demo.retailcrm.ru', apiKey: 'a b' })).toThrow(/printable ASCII/);
  });
});
