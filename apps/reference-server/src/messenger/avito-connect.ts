import type { AvitoAdapter } from '@callbridge/messenger-contract';
import type { MessengerStore, SqlProviderTokenStore } from './store.js';

/**
 * Finishes an Avito OAuth authorization for a tenant (admin route and connect page alike): exchanges the code,
 * stores the tokens (encrypted), reads the account id, subscribes `$APP_BASE_URL/webhook/avito/{tenant}?token=…`,
 * and turns the tenant's auto-reply on as the seed does after a successful OAuth. Throws AdapterError.
 */
export async function connectAvito(
  deps: {
    adapters: { avito: AvitoAdapter };
    providerTokens: SqlProviderTokenStore;
    store: MessengerStore;
    appBaseUrl: string;
  },
  tenant: number,
  code: string,
  redirectUri?: string,
): Promise<{ accountId: number }> {
  const { avito } = deps.adapters;
  await avito.exchangeCode(tenant, code, redirectUri);
  const accountId = await avito.accountId(tenant);
  const token = await deps.providerTokens.ensure(tenant);
  await avito.subscribe(tenant, `${deps.appBaseUrl}/webhook/avito/${tenant}?token=${encodeURIComponent(token)}`);
  await deps.store.patchSettings(tenant, 'behavior', { auto_reply: true, auto_reply_enabled: true });
  return { accountId };
}
