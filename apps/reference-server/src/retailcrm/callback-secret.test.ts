import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors.js';
import { createSecretBox } from '../secret-box.js';
import { callbackUrls, generateCallbackSecret, verifyCallbackSecret } from './callback-secret.js';
import { storedConfigSchema } from './config-schema.js';

const box = createSecretBox(Buffer.alloc(32, 3));
const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'passed';
  } catch (err) {
    return err instanceof HttpError ? `${err.status} ${err.code}` : String(err);
  }
};

describe('callback secret', () => {
  it('is 32 bytes of the injected random source, base64url', () => {
    const secret = generateCallbackSecret((n) => Buffer.alloc(n, 0xfb));
    expect(secret).toBe(Buffer.alloc(32, 0xfb).toString('base64url'));
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect(generateCallbackSecret()).not.toBe(generateCallbackSecret());
  });

  it('goes into the query of both callback URLs', () => {
    expect(callbackUrls('https://pbx.example/base', 'a-b_c')).toEqual({
      makeCallUrl: 'https://pbx.example/base/retailcrm/make-call?secret=a-b_c',
      changeUserStatusUrl: 'https://pbx.example/base/retailcrm/status?secret=a-b_c',
    });
  });

  it('verifies against the encrypted stored value with a stable code per failure', () => {
    const cfg = storedConfigSchema.parse({ registered: true, callback_secret: box.encrypt('s3cret-value') });
    expect(codeOf(() => verifyCallbackSecret(cfg, 's3cret-value', box))).toBe('passed');
    expect(codeOf(() => verifyCallbackSecret(cfg, undefined, box))).toBe('401 missing_secret');
    expect(codeOf(() => verifyCallbackSecret(cfg, '', box))).toBe('401 missing_secret');
    expect(codeOf(() => verifyCallbackSecret(cfg, ['s3cret-value'], box))).toBe('401 missing_secret');
    expect(codeOf(() => verifyCallbackSecret(cfg, 's3cret-valuE', box))).toBe('401 invalid_secret');
    expect(codeOf(() => verifyCallbackSecret(cfg, 's3cret-value ', box))).toBe('401 invalid_secret');
    const legacy = storedConfigSchema.parse({ registered: true });
    expect(codeOf(() => verifyCallbackSecret(legacy, 's3cret-value', box))).toBe('401 reregistration_required');
  });

  it('never puts the secret into an error message', () => {
    const cfg = storedConfigSchema.parse({ registered: true, callback_secret: box.encrypt('s3cret-value') });
    try {
      verifyCallbackSecret(cfg, 'wrong-value', box);
    } catch (err) {
      expect(String(err)).not.toContain('s3cret-value');
      expect(String(err)).not.toContain('wrong-value');
    }
    expect.assertions(2);
  });
});
