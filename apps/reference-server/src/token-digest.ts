import { createHash } from 'node:crypto';
import { safeEqual } from './auth.js';

const PREFIX = 'sha256:';

/**
 * How a looked-up bearer secret (a PBX token, a provider token) is stored: its SHA-256, so a database dump
 * does not hand out working credentials. The tokens are random, so an unsalted digest is not guessable;
 * `sha256(convert_to(token, 'UTF8'))` in SQL computes the same value (the migrations use it).
 */
export function tokenDigest(token: string): string {
  return `${PREFIX}${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

export const isTokenDigest = (stored: string): boolean => stored.startsWith(PREFIX);

/** Constant-time check of a presented token against the stored digest (or a legacy plaintext value). */
export function matchesStoredToken(presented: string, stored: string): boolean {
  return isTokenDigest(stored) ? safeEqual(tokenDigest(presented), stored) : safeEqual(presented, stored);
}
