import { describe, expect, it } from 'vitest';
import { normaliseTimestamp } from './timestamp.js';

describe('normaliseTimestamp', () => {
  it.each([
    [1715683200, 1715683200],
    [1715683200.9, 1715683200],
    [1715683200123, 1715683200],
    ['1715683200', 1715683200],
    ['2024-05-14T10:40:00Z', 1715683200],
    ['2024-05-14T13:40:00+03:00', 1715683200],
    ['2024-05-14T13:40:00+0300', 1715683200],
    ['2024-05-14T10:40:00.500Z', 1715683200],
    ['2024-05-14 10:40:00', 1715683200], // no zone: UTC, as the seed says
    ['2024-05-14', 1715644800],
  ])('%j -> %d', (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each([['yesterday'], [''], [-1], [Number.NaN], [null], [{}], ['14.05.2024'], ['2024-13-45T00:00:00Z']])(
    'rejects %j',
    (input) => {
      expect(normaliseTimestamp(input)).toBeUndefined();
    },
  );
});
