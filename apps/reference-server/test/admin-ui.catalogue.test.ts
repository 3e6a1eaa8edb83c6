import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
type Catalogue = Record<string, Record<string, string>>;
const { messages } = (await import(`${PUBLIC}messages.js`)) as { messages: Catalogue };
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('admin UI string catalogue', () => {
  it('Russian and English have the same keys, no empty text and the same parameters', () => {
    expect(Object.keys(messages).sort()).toEqual(['en', 'ru']);
    const en = messages.en as Record<string, string>;
    const ru = messages.ru as Record<string, string>;
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      expect(text.trim(), key).not.toBe('');
      expect((ru[key] as string).trim(), key).not.toBe('');
      expect(placeholders(ru[key] as string), key).toEqual(placeholders(text));
    }
  });

  it('every key the page and its scripts use exists in the catalogue', () => {
    const used = new Set<string>();
    const html = readFileSync(`${PUBLIC}index.html`, 'utf8');
    for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1] as string);
    for (const m of html.matchAll(/\["([a-zA-Z]+\.[a-zA-Z]+)"/g)) used.add(m[1] as string);
    for (const file of readdirSync(PUBLIC).filter((f) => f.endsWith('.js') && f !== 'messages.js')) {
      const js = readFileSync(`${PUBLIC}${file}`, 'utf8');
      // Literal keys in calls: setText(el, 'a.b'), toast('a.b'), ask('a.b'), ['a.b', ...], load('a.b').
      for (const m of js.matchAll(/'([a-z]+[A-Z]?[a-zA-Z]*\.[a-zA-Z]+)'/g)) used.add(m[1] as string);
    }
    // Keys built at run time: `status.${status}`, `direction.${dir}`.
    for (const k of ['success', 'error', 'warning', 'skipped']) used.add(`status.${k}`);
    used.delete('i18n.js');
    const missing = [...used].filter((k) => !(k in (messages.en as object)));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(100);
  });
});
