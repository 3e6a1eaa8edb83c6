import { describe, expect, it } from 'vitest';
import { toWorkerResult } from './adapter.js';
import { AdapterError, InvalidTargetError, isMessengerContractError, maskIdentifier } from './errors.js';
import { errorFromResponse, parseRetryAfter, pathOf } from './http.js';
import { createManualClock } from './testing/manual-clock.js';

const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));

describe('parseRetryAfter', () => {
  it.each([
    ['5', 5],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['1.5', 2],
    ['-1', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j -> %j', (value, expected) => {
    expect(parseRetryAfter(value, clock)).toBe(expected);
  });
});

describe('errorFromResponse', () => {
  const url = 'http://w.test/send?token=secret-in-query';
  it.each([
    [500, true],
    [502, true],
    [429, true],
    [408, true],
    [400, false],
    [404, false],
    [409, false],
  ])('status %d retryable=%s', async (status, retryable) => {
    const error = await errorFromResponse(new Response('{}', { status }), url, { provider: 'p', clock });
    expect(error.isRetryable).toBe(retryable);
  });

  it('takes the upstream error code and never puts the query string in the message', async () => {
    const error = await errorFromResponse(
      new Response(JSON.stringify({ ok: false, error: 'session_not_ready' }), { status: 409 }),
      url,
      { provider: 'whatsapp', clock },
    );
    expect(error.code).toBe('session_not_ready');
    expect(error.message).toBe('whatsapp: /send answered 409');
    expect(pathOf(url)).toBe('/send');
  });
});

describe('toWorkerResult', () => {
  it("normalises to the seed's {ok:true} / {ok:false,error}", () => {
    expect(toWorkerResult({ ok: true, provider: 'telegram', warnings: [] })).toEqual({ ok: true });
    expect(toWorkerResult({ ok: true, provider: 'avito', providerMessageId: 'm1', warnings: [] })).toEqual({
      ok: true,
      message_id: 'm1',
    });
    expect(
      toWorkerResult(
        new AdapterError({
          provider: 'avito',
          code: 'upstream_unavailable',
          message: 'x',
          isRetryable: true,
          retryAfter: 3,
        }),
      ),
    ).toEqual({ ok: false, error: 'upstream_unavailable', retryable: true, retry_after: 3 });
    expect(toWorkerResult(new InvalidTargetError('1', 'bad'))).toEqual({ ok: false, error: 'invalid_target' });
    expect(toWorkerResult(new Error('boom'))).toEqual({ ok: false, error: 'internal_error' });
  });
});

describe('isMessengerContractError', () => {
  it('recognises every error of the package, nothing else', () => {
    expect(isMessengerContractError(new InvalidTargetError('1', 'bad'))).toBe(true);
    expect(
      isMessengerContractError(
        new AdapterError({ provider: 'avito', code: 'upstream_error', message: 'x', isRetryable: false }),
      ),
    ).toBe(true);
    expect(isMessengerContractError(new Error('boom'))).toBe(false);
    expect(isMessengerContractError({ code: 'invalid_target' })).toBe(false);
  });
});

describe('maskIdentifier', () => {
  it('keeps only the last 4 characters', () => {
    expect(maskIdentifier('79991234567')).toBe('*******4567');
    expect(maskIdentifier('abc')).toBe('***');
  });
});
