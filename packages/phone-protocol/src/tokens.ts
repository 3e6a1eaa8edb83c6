import { createHmac, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from './clock.js';
import { PhoneProtocolError } from './errors.js';

/** The two simplejwt token types (`token_type` claim). */
export type TokenType = 'access' | 'refresh';

/** JWT settings (`PhoneProtocolOptions.auth`). */
export interface AuthOptions {
  /** HS256 key; at least 32 characters. Never logged. */
  secret: string;
  /** Access token lifetime (default 300 s, simplejwt's 5 minutes). */
  accessTtlSeconds?: number;
  /** Refresh token lifetime (default 1 day, simplejwt's default). */
  refreshTtlSeconds?: number;
  /**
   * Default true: `/api/token/refresh/` returns a new refresh token and the used one is dead; a reused one
   * revokes its whole family (simplejwt ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION, plus reuse detection).
   * `false` keeps simplejwt's default (a refresh token works until it expires): not recommended.
   */
  rotateRefreshTokens?: boolean;
}

/** The claims of a token that passed verification. */
export interface VerifiedToken {
  /** `user_id` claim. */
  userId: string;
  /** Token id (`jti`), what revocation remembers. */
  jti: string;
  /** `exp` in epoch ms. */
  expiresAt: number;
  /** Refresh tokens: the login this token descends from (every rotation keeps it). */
  family?: string;
  /** The credential stamp the token was issued under (see {@link TokenService.credentialStamp}). */
  credential?: string;
}

/** Claims bound into a token beyond simplejwt's. */
export interface TokenBinding {
  /** Refresh-token family: one per login, kept through rotations. */
  family?: string;
  /** {@link TokenService.credentialStamp} of the user at issue time. */
  credential?: string;
}

/** A token failed verification (bad signature, expired, wrong type, malformed). */
export class TokenInvalidError extends PhoneProtocolError {
  constructor(reason: string) {
    // simplejwt's wire code (the original system's): the Android app matches on it.
    super('token_not_valid', `token is invalid or expired: ${reason}`);
    this.name = 'TokenInvalidError';
  }
}

/** Issues and verifies the protocol's JWTs ({@link createTokenService}). */
export interface TokenService {
  /** Access token lifetime in seconds. */
  readonly accessTtlSeconds: number;
  /** Refresh token lifetime in seconds. */
  readonly refreshTtlSeconds: number;
  /** Whether a refresh returns a new refresh token and kills the used one. */
  readonly rotateRefreshTokens: boolean;
  /** Signs a token of `type` for the user. */
  issue(userId: string, type: TokenType, binding?: TokenBinding): Promise<string>;
  /** Verifies signature, expiry and type; throws {@link TokenInvalidError} otherwise. */
  verify(token: string, type: TokenType): Promise<VerifiedToken>;
  /**
   * A short keyed digest of the user's password hash: tokens carry it, so a password change (a new hash, new
   * salt) invalidates every token issued before. Reveals nothing about the hash without the signing key.
   */
  credentialStamp(passwordHash: string): string;
}

/**
 * HS256 tokens shaped like djangorestframework-simplejwt's: claims `token_type`, `exp`, `iat`, `jti`, `user_id`.
 * Time comes from the injected clock, so expiry is testable without sleeping.
 */
export function createTokenService(options: AuthOptions, clock: Clock): TokenService {
  if (options.secret.length < 32) {
    throw new PhoneProtocolError('weak_secret', 'auth.secret must be at least 32 characters');
  }
  const key = new TextEncoder().encode(options.secret);
  const accessTtlSeconds = options.accessTtlSeconds ?? 300;
  const refreshTtlSeconds = options.refreshTtlSeconds ?? 86_400;
  return {
    accessTtlSeconds,
    refreshTtlSeconds,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    credentialStamp: (passwordHash) =>
      createHmac('sha256', key).update('credential-stamp\0').update(passwordHash).digest('base64url').slice(0, 22),
    async issue(userId, type, binding = {}) {
      const iat = Math.floor(clock.now() / 1000);
      const ttl = type === 'access' ? accessTtlSeconds : refreshTtlSeconds;
      return new SignJWT({
        token_type: type,
        user_id: userId,
        ...(binding.family ? { fam: binding.family } : {}),
        ...(binding.credential ? { cred: binding.credential } : {}),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttl)
        .setJti(randomUUID().replaceAll('-', ''))
        .sign(key);
    },
    async verify(token, type) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          currentDate: new Date(clock.now()),
          requiredClaims: ['exp', 'jti'],
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new TokenInvalidError('expired');
        throw new TokenInvalidError('malformed or bad signature');
      }
      if (payload.token_type !== type) throw new TokenInvalidError('wrong token type');
      const userId = payload.user_id;
      if (typeof userId !== 'string' && typeof userId !== 'number') throw new TokenInvalidError('no user_id');
      return {
        userId: String(userId),
        jti: String(payload.jti),
        expiresAt: Number(payload.exp) * 1000,
        ...(typeof payload.fam === 'string' ? { family: payload.fam } : {}),
        ...(typeof payload.cred === 'string' ? { credential: payload.cred } : {}),
      };
    },
  };
}
