import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../errors.js';
import type { SecretBox } from '../secret-box.js';
import type { StoredRetailCrmConfig } from './config-schema.js';

/** Query parameter carrying the per-enterprise callback secret in makeCallUrl / changeUserStatusUrl. */
export const CALLBACK_SECRET_PARAM = 'secret';

/** 32 random bytes, base64url: unguessable and URL-safe without escaping. */
export function generateCallbackSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/** The callback URLs registered in RetailCRM; RetailCRM appends its own parameters to these. */
export function callbackUrls(publicBaseUrl: string, secret: string) {
  const url = (path: string) => {
    const u = new URL(`${publicBaseUrl}/retailcrm/${path}`);
    u.searchParams.set(CALLBACK_SECRET_PARAM, secret);
    return u.toString();
  };
  return { makeCallUrl: url('make-call'), changeUserStatusUrl: url('status') };
}

/** Hashing both sides first gives equal-length buffers, so the compare is constant-time for any input. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Checks the secret a callback presented against the enterprise's stored (encrypted) one. An enterprise
 * registered before callback secrets existed has none and must re-register: accepting a bare clientId
 * would keep the hole open.
 */
export function verifyCallbackSecret(cfg: StoredRetailCrmConfig, presented: unknown, secrets: SecretBox): void {
  if (!cfg.callback_secret) {
    throw new HttpError(401, 'reregistration_required', 'callback secret not set: re-register the RetailCRM module');
  }
  if (typeof presented !== 'string' || presented === '') {
    throw new HttpError(401, 'missing_secret', 'the callback secret is required');
  }
  if (!sameSecret(presented, secrets.decrypt(cfg.callback_secret))) {
    throw new HttpError(401, 'invalid_secret', 'the callback secret is wrong');
  }
}
