import type { VerifiedToken } from './tokens.js';

/**
 * Access tokens whose signature was already checked, keyed by the exact token string, so a device's next polls
 * (every ~25 s with the same token) skip the HMAC verification. An entry is used only before the token's own
 * `exp` (checked against the caller's clock on every hit), so a cached token never outlives its expiry; a forged
 * or altered token is a different string and goes through the full check. Bounded: the oldest entries go first.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries = 50_000) {}

  /** The verified claims if the token was verified before and has not expired at `now`. */
  get(token: string, now: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now < entry.expiresAt) return entry;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, verified);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
