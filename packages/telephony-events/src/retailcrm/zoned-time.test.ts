import { describe, expect, it } from 'vitest';
import { formatRetailCrmDate } from './format.js';
import { convertWallClock, wallClockToInstant } from './zoned-time.js';

const utc = (wall: string) => Date.parse(`${wall.replace(' ', 'T')}Z`);

describe('wallClockToInstant', () => {
  it('reads a wall-clock time in zones without DST, east and west of UTC', () => {
    expect(wallClockToInstant('2025-01-09 10:00:00', 'Europe/Minsk')).toBe(utc('2025-01-09 07:00:00'));
    expect(wallClockToInstant('2025-01-09 17:00:00', 'Asia/Vladivostok')).toBe(utc('2025-01-09 07:00:00'));
    expect(wallClockToInstant('2025-01-09 00:30:00', 'America/Bogota')).toBe(utc('2025-01-09 05:30:00'));
    expect(wallClockToInstant('2025-01-09 07:00:00', 'UTC')).toBe(utc('2025-01-09 07:00:00'));
    // Half-hour offsets too.
    expect(wallClockToInstant('2025-01-09 12:30:00', 'Asia/Kolkata')).toBe(utc('2025-01-09 07:00:00'));
  });

  it('Europe/Berlin, spring forward (2025-03-30 02:00 CET -> 03:00 CEST)', () => {
    expect(wallClockToInstant('2025-03-30 01:59:59', 'Europe/Berlin')).toBe(utc('2025-03-30 00:59:59'));
    expect(wallClockToInstant('2025-03-30 03:00:00', 'Europe/Berlin')).toBe(utc('2025-03-30 01:00:00'));
    // 02:30 never happens: moved forward by the gap, to 03:30 CEST.
    const gap = wallClockToInstant('2025-03-30 02:30:00', 'Europe/Berlin');
    expect(gap).toBe(utc('2025-03-30 01:30:00'));
    expect(formatRetailCrmDate(gap, 'Europe/Berlin')).toBe('2025-03-30 03:30:00');
  });

  it('Europe/Berlin, fall back (2025-10-26 03:00 CEST -> 02:00 CET): a repeated time is the earlier instant', () => {
    expect(wallClockToInstant('2025-10-26 01:59:59', 'Europe/Berlin')).toBe(utc('2025-10-25 23:59:59'));
    expect(wallClockToInstant('2025-10-26 02:30:00', 'Europe/Berlin')).toBe(utc('2025-10-26 00:30:00'));
    expect(wallClockToInstant('2025-10-26 03:00:00', 'Europe/Berlin')).toBe(utc('2025-10-26 02:00:00'));
  });

  it('America/New_York, both changes (2025-03-09 02:00 EST -> 03:00 EDT, 2025-11-02 02:00 EDT -> 01:00 EST)', () => {
    expect(wallClockToInstant('2025-03-09 01:30:00', 'America/New_York')).toBe(utc('2025-03-09 06:30:00'));
    expect(wallClockToInstant('2025-03-09 02:15:00', 'America/New_York')).toBe(utc('2025-03-09 07:15:00'));
    expect(formatRetailCrmDate(utc('2025-03-09 07:15:00'), 'America/New_York')).toBe('2025-03-09 03:15:00');
    expect(wallClockToInstant('2025-03-09 03:00:00', 'America/New_York')).toBe(utc('2025-03-09 07:00:00'));
    expect(wallClockToInstant('2025-11-02 01:30:00', 'America/New_York')).toBe(utc('2025-11-02 05:30:00'));
    expect(wallClockToInstant('2025-11-02 02:00:00', 'America/New_York')).toBe(utc('2025-11-02 07:00:00'));
  });

  it('round-trips every quarter hour across a whole DST day, except inside the gap', () => {
    // [zone, day, the hour that does not exist that day (spring forward)]
    for (const [zone, day, gapHour] of [
      ['Europe/Berlin', '2025-03-30', '02'],
      ['Europe/Berlin', '2025-10-26', undefined],
      ['America/New_York', '2025-03-09', '02'],
      ['America/New_York', '2025-11-02', undefined],
    ] as const) {
      for (let minute = 0; minute < 24 * 60; minute += 15) {
        const hour = String(Math.floor(minute / 60)).padStart(2, '0');
        if (hour === gapHour) continue;
        const wall = `${day} ${hour}:${String(minute % 60).padStart(2, '0')}:00`;
        expect(formatRetailCrmDate(wallClockToInstant(wall, zone), zone), `${zone} ${wall}`).toBe(wall);
      }
    }
  });

  it('rejects other formats and unknown zones with codes', () => {
    expect(() => wallClockToInstant('2025-01-09T10:00:00', 'UTC')).toThrow(
      expect.objectContaining({ code: 'invalid_date' }),
    );
    expect(() => wallClockToInstant('2025-01-09 10:00:00', 'Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'invalid_time_zone' }),
    );
  });
});

describe('convertWallClock', () => {
  it('a PBX in Minsk, an account in Vladivostok: the same instant, seven hours later on the wall', () => {
    expect(convertWallClock('2025-01-09 10:00:00', 'Europe/Minsk', 'Asia/Vladivostok')).toBe('2025-01-09 17:00:00');
    expect(convertWallClock('2025-01-09 20:30:15', 'Europe/Minsk', 'Asia/Vladivostok')).toBe('2025-01-10 03:30:15');
  });

  it('across a DST change of either side', () => {
    // Berlin's fall-back 02:30 is read as the earlier (CEST) instant: 00:30 UTC = 20:30 in New York the day before.
    expect(convertWallClock('2025-10-26 02:30:00', 'Europe/Berlin', 'America/New_York')).toBe('2025-10-25 20:30:00');
    // A New York stamp in the spring gap lands one hour later: 02:30 -> 03:30 EDT = 07:30 UTC = 08:30 in Berlin.
    expect(convertWallClock('2025-03-09 02:30:00', 'America/New_York', 'Europe/Berlin')).toBe('2025-03-09 08:30:00');
    // Moscow has no DST; Berlin in summer is one hour behind it, in winter two.
    expect(convertWallClock('2025-07-01 12:00:00', 'Europe/Moscow', 'Europe/Berlin')).toBe('2025-07-01 11:00:00');
    expect(convertWallClock('2025-01-01 12:00:00', 'Europe/Moscow', 'Europe/Berlin')).toBe('2025-01-01 10:00:00');
  });

  it('leaves the stamp alone without a target zone or when both zones are the same', () => {
    expect(convertWallClock('2025-03-30 02:30:00', 'Europe/Berlin', undefined)).toBe('2025-03-30 02:30:00');
    expect(convertWallClock('2025-03-30 02:30:00', 'Europe/Berlin', 'Europe/Berlin')).toBe('2025-03-30 02:30:00');
  });
});
