import { TelephonyEventsError } from '../errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new TelephonyEventsError('invalid_time_zone', `unknown IANA time zone: ${timeZone}`, {
        isRetryable: false,
      });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The host's IANA zone (what the PBX clock uses when both run in one place), e.g. `Europe/Moscow`. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/**
 * `Y-m-d H:i:s`, RetailCRM's date-time format: wall-clock time in `timeZone` (an IANA name such as
 * `Europe/Moscow`), or in UTC when no zone is given. Throws `invalid_time_zone` for an unknown zone.
 */
export function formatRetailCrmDate(ms: number, timeZone?: string): string {
  if (timeZone === undefined) return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}
