import { describe, expect, it } from 'vitest';
import { createSecretBox, looksMasked, maskSecret, SecretDecryptError } from './secret-box.js';

describe('SecretBox', () => {
  const box = createSecretBox(Buffer.alloc(32, 1));
  it('round-trips and uses a fresh IV each time', () => {
    const a = box.encrypt('my-api-key-123');
    const b = box.encrypt('my-api-key-123');
    expect(a).not.toBe(b);
    expect(a.startsWith('enc:v1:')).toBe(true);
    expect(a).not.toContain('my-api-key');
    expect(box.decrypt(a)).toBe('my-api-key-123');
  });

  it('rejects tampering and a wrong key without leaking', () => {
    const c = box.encrypt('secret-value');
    const raw = Buffer.from(c.slice(7), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    expect(() => box.decrypt(`enc:v1:${raw.toString('base64')}`)).toThrow(SecretDecryptError);
    expect(() => createSecretBox(Buffer.alloc(32, 2)).decrypt(c)).toThrow(SecretDecryptError);
    expect(() => box.decrypt('plain')).toThrow(SecretDecryptError);
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow();
  });

  it('masks', () => {
    expect(maskSecret('abcdefghijklwxyz')).toBe('abcd****wxyz');
    expect(maskSecret('short')).toBe('****');
    expect(maskSecret(undefined)).toBeNull();
    expect(looksMasked('abcd****wxyz')).toBe(true);
    expect(looksMasked('abcdwxyz')).toBe(false);
  });
});
