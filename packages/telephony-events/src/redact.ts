const SECRET_KEY = /api[_-]?key|secret|token|password|authorization|^key$/i;
const MASK = '***';
const MAX_DEPTH = 8;
const TRUNCATED = '[truncated]';

/**
 * Deep-copies `value` with secret-looking fields masked and every occurrence of the given secret strings replaced,
 * so integration logs and dead letters can be stored and shown safely.
 */
export function redact<T>(value: T, secrets: readonly (string | undefined)[] = []): T {
  const known = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const scrub = (text: string) => known.reduce((acc, secret) => acc.split(secret).join(MASK), text);
  const walk = (input: unknown, depth: number): unknown => {
    if (typeof input === 'string') return scrub(input);
    if (input === null || typeof input !== 'object') return input;
    // Deeper than any CRM payload (or a cycle): dropped rather than copied unmasked.
    if (depth > MAX_DEPTH) return TRUNCATED;
    if (Array.isArray(input)) return input.map((item) => walk(item, depth + 1));
    if (input instanceof Date) return input;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) {
      out[key] = SECRET_KEY.test(key) && item != null && item !== '' ? MASK : walk(item, depth + 1);
    }
    return out;
  };
  return walk(value, 0) as T;
}
