/** A value that can be put into a query string in RetailCRM's (PHP) bracket notation. */
export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly QueryValue[]
  | { readonly [key: string]: QueryValue };

function scalar(value: string | number | boolean): string {
  // PHP reads booleans as 1/0.
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function append(out: URLSearchParams, key: string, value: QueryValue): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value as readonly QueryValue[]) append(out, `${key}[]`, item);
    return;
  }
  if (typeof value === 'object') {
    for (const [child, childValue] of Object.entries(value)) append(out, `${key}[${child}]`, childValue);
    return;
  }
  out.append(key, scalar(value as string | number | boolean));
}

/** `{filter: {name: 'x', groups: ['a']}}` -> `filter[name]=x&filter[groups][]=a`. */
export function encodeQuery(params: Record<string, QueryValue>): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) append(out, key, value);
  return out;
}

/**
 * Form body for POST: scalars as-is; objects and arrays as ONE JSON string field
 * (sending `integrationModule[code]=...` yields `contains a non-scalar value`).
 */
export function encodeForm(fields: Record<string, unknown>): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'object') out.append(key, JSON.stringify(value));
    else out.append(key, scalar(value as string | number | boolean));
  }
  return out;
}
