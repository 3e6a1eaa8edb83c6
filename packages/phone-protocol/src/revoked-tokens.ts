/**
 * Port: ids (`jti`) of refresh tokens that were already used, and revoked token families (a login and all its
 * rotations), each kept until its tokens would have expired anyway. `/api/token/refresh/` revokes the presented
 * token; presenting a used one again revokes its family, so a stolen token dies with the legitimate one.
 */
export interface RevokedTokenStore {
  /** Atomically marks `jti` as revoked; true only for the first caller (a concurrent replay gets false). */
  revoke(jti: string, expiresAt: number, now: number): Promise<boolean>;
  /** Revokes every token of `family` until `until` (epoch ms). */
  revokeFamily(family: string, until: number, now: number): Promise<void>;
  /** Whether `family` is revoked at `now` (its deadline not yet passed). */
  isFamilyRevoked(family: string, now: number): Promise<boolean>;
}

/** Single-process {@link RevokedTokenStore}; expired entries are swept. */
export class InMemoryRevokedTokenStore implements RevokedTokenStore {
  private readonly revoked = new Map<string, number>();
  private readonly families = new Map<string, number>();
  private lastSweep = 0;

  async revoke(jti: string, expiresAt: number, now: number): Promise<boolean> {
    const until = this.revoked.get(jti);
    if (until !== undefined && until > now) return false;
    this.revoked.set(jti, expiresAt);
    this.sweep(now);
    return true;
  }

  async revokeFamily(family: string, until: number, now: number): Promise<void> {
    this.families.set(family, Math.max(until, this.families.get(family) ?? 0));
    this.sweep(now);
  }

  async isFamilyRevoked(family: string, now: number): Promise<boolean> {
    return (this.families.get(family) ?? 0) > now;
  }

  /** Entries past their token's expiry carry no information; swept at most once a minute. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const map of [this.revoked, this.families]) for (const [id, end] of map) if (end <= now) map.delete(id);
  }
}
