import { createHash, randomBytes } from 'node:crypto';

/** Port: one-time QR login tokens. Keys are SHA-256 digests, so a dump of the store cannot be replayed. */
export interface QrTokenStore {
  /** `ttlMs` lets stores with their own expiry (Redis) drop the entry; `expiresAt` is the injected-clock truth. */
  put(digest: string, userId: string, expiresAt: number, ttlMs: number): Promise<void>;
  /** Atomically removes the token and returns its user if it existed and had not expired. */
  take(digest: string, now: number): Promise<string | undefined>;
}

/** Single-process {@link QrTokenStore}. */
export class InMemoryQrTokenStore implements QrTokenStore {
  private readonly tokens = new Map<string, { userId: string; expiresAt: number }>();
  async put(digest: string, userId: string, expiresAt: number, _ttlMs: number): Promise<void> {
    this.tokens.set(digest, { userId, expiresAt });
  }
  async take(digest: string, now: number): Promise<string | undefined> {
    const entry = this.tokens.get(digest);
    this.tokens.delete(digest);
    // Expired entries are dropped lazily; sweep the rest so the map cannot grow forever.
    if (this.tokens.size > 1000) for (const [k, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(k);
    return entry && entry.expiresAt > now ? entry.userId : undefined;
  }
}

/** SHA-256 (hex) of a QR token: the key a {@link QrTokenStore} keeps instead of the token. */
export function qrTokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateQrToken(): string {
  return randomBytes(24).toString('base64url');
}
