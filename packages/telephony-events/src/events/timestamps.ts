import { formatRetailCrmDate } from '../retailcrm/format.js';

const LOCAL = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::(\d{2}))?(?:\.\d+)?$/;

/**
 * RetailCRM's `Y-m-d H:i:s` on the PBX clock of `timeZone`. A stamp without a zone (`YYYY-MM-DD HH:MM:SS` or ISO
 * without offset) is already PBX wall-clock time and only reformatted; a stamp with an offset or `Z`, or epoch
 * seconds, is an instant and is written in `timeZone`. Undefined for anything unreadable.
 */
export function toWallClock(raw: string | null | undefined, timeZone: string): string | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  if (/^\d{9,11}$/.test(text)) return formatRetailCrmDate(Number(text) * 1000, timeZone);
  const local = LOCAL.exec(text);
  if (local) return `${local[1]} ${local[2]}:${local[3] ?? '00'}`;
  const ms = Date.parse(text.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(ms) ? formatRetailCrmDate(ms, timeZone) : undefined;
}
