/**
 * Default NOTIFY payload decoder:
 * - empty payload: `undefined` (invalidate everything);
 * - JSON object: its `enterprise_number` (string or number), else everything;
 * - anything else: the payload itself is the key.
 */
export function defaultKeyFromPayload(payload: string): string | undefined {
  const trimmed = payload.trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed && typeof parsed === 'object') {
        const value = (parsed as Record<string, unknown>).enterprise_number;
        if (typeof value === 'string' && value !== '') return value;
        if (typeof value === 'number' && Number.isFinite(value)) return String(value);
        return undefined;
      }
    } catch {
      // Not JSON after all: fall through and treat it as a plain key.
    }
  }
  return trimmed;
}
