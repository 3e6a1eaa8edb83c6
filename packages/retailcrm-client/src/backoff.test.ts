import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultRetryOptions, parseRetryAfter } from './backoff.js';
import { formatRetailCrmDateTime } from './datetime.js';
import { maskApiKey, redactSecret } from './redact.js';

describe('backoff', () => {
  it('doubles per attempt, capped, with equal jitter', () => {
    const options = { ...defaultRetryOptions, minDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options, () => 1))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-09T19:20:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Thu, 09 Jan 2025 19:20:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('formatRetailCrmDateTime', () => {
    const date = new Date('2025-01-09T16:20:05Z');
    expect(formatRetailCrmDateTime(date)).toBe('2025-01-09 16:20:05');
    expect(formatRetailCrmDateTime(date, 'Europe/Moscow')).toBe('2025-01-09 19:20:05');
  });

  it('maskApiKey / redactSecret', () => {
    expect(maskApiKey('abcdefghijklmnopqrst')).toBe('***qrst');
    expect(maskApiKey('short')).toBe('***');
    expect(maskApiKey(undefined)).toBe('');
    expect(redactSecret('key=SECRET1 again SECRET1', 'SECRET1')).toBe('key=*** again ***');
  });
});
