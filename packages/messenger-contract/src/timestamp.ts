import { z } from 'zod';

/** Above this a numeric timestamp is taken as milliseconds (year 5138 in seconds). */
const MS_THRESHOLD = 1e11;

/**
 * Normalises epoch seconds, epoch milliseconds, numeric strings and ISO-8601 strings to integer epoch seconds (UTC).
 * Returns undefined when the input is not a usable timestamp.
 */
export function normaliseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return Math.floor(value >= MS_THRESHOLD ? value / 1000 : value);
  }
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return normaliseTimestamp(Number(trimmed));
  // ISO-8601 only: a date, optionally with time; a missing zone means UTC (the seed's rule: ts is UTC).
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(trimmed)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && trimmed.length > 10;
  const iso = trimmed.replace(' ', 'T') + (hasZone || trimmed.length === 10 ? '' : 'Z');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** zod field: epoch seconds | epoch ms | ISO-8601 -> integer epoch seconds. */
export const TimestampSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ts = normaliseTimestamp(value);
  if (ts === undefined) {
    ctx.addIssue({ code: 'custom', message: 'ts must be epoch seconds or ISO-8601' });
    return z.NEVER;
  }
  return ts;
});
