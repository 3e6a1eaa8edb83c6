// Language choice, translation and date formatting. Elements carry their key (`data-i18n`, parameters in
// `data-i18n-args`, attributes as JSON in `data-i18n-attr`) so a language switch
// re-renders them in place; data from the server sits in elements marked `data-dynamic`.
import { messages } from './messages.js';

export const LANGUAGES = Object.keys(messages);
const STORAGE_KEY = 'cb_lang';
const LOCALES = { en: 'en-GB', ru: 'ru-RU' };
let lang = 'en';
let timeZone = 'UTC';

/** Saved choice first, then the browser's languages, then English. */
export function pickLanguage(saved, browserLanguages) {
  if (LANGUAGES.includes(saved)) return saved;
  for (const l of browserLanguages ?? []) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export const currentLanguage = () => lang;
export const currentTimeZone = () => timeZone;

export function setLanguage(next, remember = false) {
  lang = LANGUAGES.includes(next) ? next : 'en';
  if (remember) localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
}

export function initLanguage() {
  setLanguage(pickLanguage(localStorage.getItem(STORAGE_KEY), navigator.languages ?? [navigator.language]));
}

/** The account's zone (server setting); an unknown zone falls back to UTC rather than breaking every date. */
export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    timeZone = zone;
  } catch {
    timeZone = 'UTC';
  }
}

/** `2026-12-01T10:00:00Z` -> "1 Dec 2026, 13:00:00" (en) / "1 дек. 2026 г., 13:00:00" (ru) in the account's zone. */
export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'medium', timeZone }).format(d);
}

/** Parameters: plain values, or `{date: iso}` formatted with {@link formatDate}. */
export function t(key, params = {}) {
  const template = messages[lang][key] ?? messages.en[key];
  if (template === undefined) throw new Error(`missing message ${key}`);
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const v = params[name];
    if (v && typeof v === 'object' && 'date' in v) return formatDate(v.date);
    return v === undefined || v === null ? '' : String(v);
  });
}

/** Sets an element's text from the catalogue and remembers the key for later language switches. */
export function setText(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nArgs = JSON.stringify(params);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, params);
  return el;
}

/**
 * Sets attributes (placeholder, aria-label) from the catalogue: `{ 'aria-label': ['key', params] }`; the spec is
 * kept as JSON in `data-i18n-attr` for later language switches.
 */
export function setAttrs(el, attrs) {
  el.dataset.i18nAttr = JSON.stringify(attrs);
  applyAttrs(el);
  return el;
}

function applyAttrs(el) {
  for (const [attr, [key, params]] of Object.entries(JSON.parse(el.dataset.i18nAttr))) {
    el.setAttribute(attr, t(key, params));
  }
}

/** Re-renders every catalogue text and attribute under `root` in the current language. */
export function translateAll(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) applyAttrs(el);
}

/** A cell or span holding server data (names, ids, payloads): shown as-is, never translated. */
export function dynamic(tag, text) {
  const el = document.createElement(tag);
  el.dataset.dynamic = '';
  el.textContent = text === undefined || text === null ? '' : String(text);
  return el;
}

/** `<time>` in the account's zone and the current language (re-rendered on a language switch). */
export function timeElement(iso) {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.dataset.dynamic = '';
  el.textContent = formatDate(iso);
  return el;
}

export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll('time[datetime]')) el.textContent = formatDate(el.dateTime);
}

/**
 * A wall-clock `YYYY-MM-DDTHH:mm` in the account's zone -> ISO instant (the time filter's inputs are in that
 * zone, like the dates the page shows).
 */
export function zonedWallTimeToIso(wall) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const offsetAt = (instant) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
        .formatToParts(new Date(instant))
        .map((p) => [p.type, p.value]),
    );
    const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return local - instant;
  };
  // Two passes settle a wall time next to a DST change.
  let instant = asUtc - offsetAt(asUtc);
  instant = asUtc - offsetAt(instant);
  return new Date(instant).toISOString();
}
