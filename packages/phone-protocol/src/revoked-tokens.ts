/**
 * Port: ids (`jti`) of refresh tokens that were already used, kept until the token would have expired anyway.
 * With rotation on, `/api/token/refresh/` revokes the presented token, so a replayed one gets 401.
 */
export interface RevokedTokenStore {
  /** Atomically marks `jti` as revoked; true only for the first caller (a concurrent replay gets false). */
  revoke(jti: string, expiresAt: number, now: number): Promise<boolean>;
}

export class InMemoryRevokedTokenStore implements RevokedTokenStore {
  private readonly revoked = new Map<string, number>();
  private lastSweep = 0;

  async revoke(jti: string, expiresAt: number, now: number): Promise<boolean> {
    const until = this.revoked.get(jti);
    if (until !== undefined && until > now) return false;
    this.revoked.set(jti, expiresAt);
    // Entries past their token's expiry carry no information; sweep them at most once a minute.
    if (now - this.lastSweep >= 60_000) {
      this.lastSweep = now;
      for (const [id, end] of this.revoked) if (end <= now) this.revoked.delete(id);
    }
    return true;
  }
}
