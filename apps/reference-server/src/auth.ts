import { createHash, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Storage } from './storage/types.js';

/** Who is calling: the operator (admin token) or one enterprise (RetailCRM "Go to account" JWT). */
export type Principal = { kind: 'admin' } | { kind: 'enterprise'; enterpriseNumber: string };

const ISSUER = 'callbridge';
const AUDIENCE = 'retailcrm-admin';
const ONE_YEAR_S = 365 * 24 * 3600;

/** Constant-time comparison; hashing first hides the length of the expected secret. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface Authenticator {
  /** Signs an account-link JWT for `enterpriseNumber` carrying token version `ver`. */
  issueAccountToken(enterpriseNumber: string, ver: number): Promise<string>;
  /** Resolves a bearer credential to a principal, or undefined when it is not valid (any reason). */
  authenticate(credential: string): Promise<Principal | undefined>;
}

export function createAuthenticator(options: {
  adminToken: string;
  jwtSecret: string;
  storage: Pick<Storage, 'getEnterprise'>;
  /** Seconds since epoch; injected for tests. */
  nowSeconds?: () => number;
}): Authenticator {
  const key = new TextEncoder().encode(options.jwtSecret);
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return {
    async issueAccountToken(enterpriseNumber, ver) {
      const iat = now();
      return new SignJWT({ enterprise_number: enterpriseNumber, source: 'retailcrm', ver })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(enterpriseNumber)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ONE_YEAR_S)
        .sign(key);
    },
    async authenticate(credential) {
      if (!credential) return undefined;
      if (safeEqual(credential, options.adminToken)) return { kind: 'admin' };
      if (credential.split('.').length !== 3) return undefined;
      try {
        const { payload } = await jwtVerify(credential, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now() * 1000),
        });
        const number = payload.enterprise_number;
        if (typeof number !== 'string' || payload.source !== 'retailcrm' || typeof payload.ver !== 'number') {
          return undefined;
        }
        // Revocation: the enterprise's token version moves on every (re-)registration and unregistration.
        const enterprise = await options.storage.getEnterprise(number);
        // An inactive enterprise's links stop working too (they work again if it is re-activated).
        if (!enterprise?.active || enterprise.adminTokenVersion !== payload.ver) return undefined;
        return { kind: 'enterprise', enterpriseNumber: number };
      } catch {
        return undefined;
      }
    },
  };
}

/** Bearer token from `Authorization`, or `X-Admin-Token`. */
export function credentialFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1].trim();
  }
  const x = headers['x-admin-token'];
  return typeof x === 'string' && x !== '' ? x : undefined;
}
