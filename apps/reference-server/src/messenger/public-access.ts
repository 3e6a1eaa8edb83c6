import { type PublicKeyAuth, TenantSchema, verifyTenantKey } from '@callbridge/messenger-contract';
import type { SqlTenantKeyStore } from './store.js';

export type PublicAccess = { ok: true; tenant: number } | { ok: false; reason: 'invalid_key' | 'invalid_tenant' };

/**
 * The `?k=` check of the public routes and connect pages: PUBLIC_KEY (or ADMIN_TOKEN in compatibility mode), or
 * the tenant's own key, which opens that tenant only (the seed's `/connect/wa?tenant=…&k=TENANT_KEY` links).
 */
export async function checkPublicAccess(
  deps: { publicAuth: PublicKeyAuth; tenantKeys: SqlTenantKeyStore },
  k: string | undefined,
  rawTenant: unknown,
): Promise<PublicAccess> {
  const parsed = TenantSchema.safeParse(typeof rawTenant === 'string' ? rawTenant.trim() : rawTenant);
  const tenant = parsed.success ? parsed.data : undefined;
  const byPublicKey = deps.publicAuth.check(k).ok;
  const byTenantKey = !byPublicKey && tenant !== undefined && (await verifyTenantKey(deps.tenantKeys, tenant, k));
  if (!byPublicKey && !byTenantKey) return { ok: false, reason: 'invalid_key' };
  return tenant === undefined ? { ok: false, reason: 'invalid_tenant' } : { ok: true, tenant };
}
