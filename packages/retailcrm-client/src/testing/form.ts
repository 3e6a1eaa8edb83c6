/** `filter[name]=x&filter[groups][]=a` -> `{name: 'x', groups: ['a']}` (one nesting level, as RetailCRM uses). */
export function readFilter(params: URLSearchParams, root = 'filter'): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const match = new RegExp(`^${root}\\[([^\\]]+)\\](\\[\\])?$`).exec(key);
    if (!match) continue;
    const field = match[1]!;
    if (match[2]) {
      const list = out[field];
      out[field] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      out[field] = value;
    }
  }
  return out;
}

export function toRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else out[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

export const digits = (phone: string) => phone.replace(/\D/g, '');

/** Phones match on their last 10 digits (+7 / 8 prefixes differ in Russia). */
export function samePhone(a: string, b: string): boolean {
  const x = digits(a);
  const y = digits(b);
  if (!x || !y) return false;
  return x.slice(-10) === y.slice(-10);
}

export const flag = (value: string | string[] | undefined) =>
  value === undefined ? undefined : value === '1' || value === 'true';
