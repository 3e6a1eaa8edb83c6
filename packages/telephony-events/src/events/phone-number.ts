import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

// What PBXes put in the caller id when the caller hides it.
const ANONYMOUS = new Set(['', 'unknown', '<unknown>', 'anonymous', 'restricted', 'private', 'unavailable', 'null']);

/** A caller without a usable number: empty, `<unknown>`, `anonymous`, `restricted`... */
export function isAnonymousNumber(raw: string | null | undefined): boolean {
  return ANONYMOUS.has(
    String(raw ?? '')
      .trim()
      .toLowerCase(),
  );
}

/**
 * `+E164` for an external number, read in `defaultCountry` (ISO 3166 alpha-2) when it has no `+`: `80291234567`
 * (BY) -> `+375291234567`, `375447000013` -> `+375447000013`. A number libphonenumber cannot make valid is returned
 * as its digits (with `+` when it had one) so nothing is lost, just not reformatted.
 */
export function toE164(raw: string, defaultCountry?: string): string {
  const text = raw.trim();
  const country = defaultCountry?.toUpperCase() as CountryCode | undefined;
  const candidates = text.startsWith('+') ? [text] : [text, `+${text.replace(/^00/, '')}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, candidate.startsWith('+') ? undefined : country);
    if (parsed?.isValid()) return parsed.number;
  }
  const digits = text.replace(/[^\d]/g, '');
  return text.startsWith('+') && digits ? `+${digits}` : digits || text;
}
