import { describe, expect, it } from 'vitest';
import { redact } from './redact.js';

describe('redact', () => {
  it('masks secret-looking fields and known secret values anywhere, without mutating the input', () => {
    const input = {
      api_key: 'sk-live-123456',
      nested: { apiKey: 'x', Authorization: 'Bearer t', list: ['url?apiKey=sk-live-123456', 3] },
      message: 'Wrong "apiKey" value sk-live-123456',
      keep: 'visible',
      token: '',
    };
    expect(redact(input, ['sk-live-123456'])).toEqual({
      api_key: '***',
      nested: { apiKey: '***', Authorization: '***', list: ['url?apiKey=***', 3] },
      message: 'Wrong "apiKey" value ***',
      keep: 'visible',
      token: '',
    });
    expect(input.api_key).toBe('sk-live-123456');
    expect(redact('short', ['abc'])).toBe('short'); // secrets under 4 chars are ignored (would mask everything)
  });

  it('never copies an unmasked object from below the depth limit, and survives cycles', () => {
    let deep: Record<string, unknown> = { api_key: 'sk-live-123456' };
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    expect(JSON.stringify(redact(deep))).not.toContain('sk-live-123456');
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(() => JSON.stringify(redact(cyclic))).not.toThrow();
  });
});
