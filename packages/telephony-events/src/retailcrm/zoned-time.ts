import { TelephonyEventsError } from '../errors.js';
import { formatRetailCrmDate } from './format.js';

const WALL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const DAY_MS = 86_400_000;

/** The wall-clock stamp read as if it were UTC: the arithmetic both directions share. */
function wallAsUtc(wall: string): number {
  const m = WALL.exec(wall);
  if (!m) {
    throw new TelephonyEventsError('invalid_date', `not a "Y-m-d H:i:s" wall-clock time: ${wall}`, {
      isRetryable: false,
    });
  }
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** How far `timeZone`'s clock is ahead of UTC at the instant `ms` (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const atSecond = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(formatRetailCrmDate(atSecond, timeZone)) - atSecond;
}

/**
 * The instant a `Y-m-d H:i:s` wall-clock time in `timeZone` names. Deterministic around DST changes, like
 * Temporal's `compatible` disambiguation: a time that happens twice (clocks turned back) is the earlier instant; a
 * time that never happens (clocks turned forward) is moved forward by the gap (Berlin `02:30` on the spring-forward
 * day is `03:30` CEST). Throws `invalid_date` for another format, `invalid_time_zone` for an unknown zone.
 */
export function wallClockToInstant(wall: string, timeZone: string): number {
  const asUtc = wallAsUtc(wall);
  // A real zone changes its offset at most once within a day: the offsets a day either side are the candidates.
  const before = offsetAt(asUtc - DAY_MS, timeZone);
  const after = offsetAt(asUtc + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => asUtc - offset)
    .filter((instant) => offsetAt(instant, timeZone) === asUtc - instant);
  if (valid.length) return Math.min(...valid);
  return asUtc - before; // in the gap: read with the offset in force before it, which lands after it
}

/**
 * A PBX wall-clock stamp rewritten on another clock: `wall` read in `fromZone`, written in `toZone` (RetailCRM's
 * `Y-m-d H:i:s`). The same zone (or no `toZone`) leaves the stamp as it is.
 */
export function convertWallClock(wall: string, fromZone: string, toZone: string | undefined): string {
  if (toZone === undefined || toZone === fromZone) return wall;
  return formatRetailCrmDate(wallClockToInstant(wall, fromZone), toZone);
}
