import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

/** AES-256-GCM for secrets at rest. Ciphertext format: `enc:v1:<base64(iv[12] | tag[16] | data)>`. */
export interface SecretBox {
  encrypt(plain: string): string;
  decrypt(stored: string): string;
  isEncrypted(value: string): boolean;
}

export class SecretDecryptError extends Error {
  readonly code = 'secret_decrypt_failed';
  constructor() {
    super('stored secret could not be decrypted (wrong SECRET_KEY or corrupted value)');
    this.name = 'SecretDecryptError';
  }
}

export function createSecretBox(key: Buffer, random: (n: number) => Buffer = randomBytes): SecretBox {
  if (key.length !== 32) throw new Error('SecretBox key must be 32 bytes');
  return {
    encrypt(plain) {
      const iv = random(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
    },
    decrypt(stored) {
      if (!stored.startsWith(PREFIX)) throw new SecretDecryptError();
      const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
      if (raw.length < 28) throw new SecretDecryptError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptError();
      }
    },
    isEncrypted: (value) => value.startsWith(PREFIX),
  };
}

/** `abcd****wxyz`; short secrets are fully starred so nothing meaningful leaks. */
export function maskSecret(secret: string | undefined | null): string | null {
  if (!secret) return null;
  if (secret.length <= 8) return '****';
  return `${secret.slice(0, 4)}****${secret.slice(-4)}`;
}

/** True when a client sent back the masked value it received (keep the stored key). */
export function looksMasked(value: string): boolean {
  return value.includes('****');
}
