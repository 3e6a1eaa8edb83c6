import type { ConfigCacheLoader } from '@callbridge/config-cache';
import type { RetailCrmEnterpriseConfig } from '@callbridge/telephony-events';
import { storedConfigSchema } from '../retailcrm/config-schema.js';
import { INTEGRATION } from '../retailcrm/service.js';
import type { SecretBox } from '../secret-box.js';
import type { Enterprise, Storage } from '../storage/types.js';

/** What the config cache holds per enterprise: the stored settings mapped straight to telephony-events' port. */
export interface EnterpriseRetailCrm {
  enterprise_number: string;
  /**
   * The enterprise's RetailCRM account as the delivery code reads it, with `api_key` decrypted (memory only);
   * `undefined` while no domain or no readable key is stored. `enabled` is false for an inactive enterprise.
   */
  retailcrm: RetailCrmEnterpriseConfig | undefined;
}

/** Whether events and call results of this enterprise go to RetailCRM. */
export const isDeliveryEnabled = (value: EnterpriseRetailCrm | undefined): boolean =>
  value?.retailcrm?.enabled === true;

function decryptedKey(stored: string | undefined, secrets: SecretBox): string | undefined {
  if (!stored) return undefined;
  try {
    return secrets.isEncrypted(stored) ? secrets.decrypt(stored) : stored;
  } catch {
    return undefined; // undecryptable (rotated SECRET_KEY): treated as not configured
  }
}

/**
 * Stored `integrations_config.retailcrm` -> telephony-events' `RetailCrmEnterpriseConfig`: the stored switches
 * (`incoming`, `outgoing`, `hangup`, `history`, `smart_redirect`) and call settings have the port's names and
 * meaning, so they pass straight through; the sink gates each CRM call by the flag that names it.
 */
export function toEnterpriseRetailCrm(e: Enterprise, secrets: SecretBox): EnterpriseRetailCrm {
  const stored = storedConfigSchema.parse(e.integrationsConfig[INTEGRATION] ?? {});
  const apiKey = decryptedKey(stored.api_key, secrets);
  if (!stored.domain || apiKey === undefined) return { enterprise_number: e.number, retailcrm: undefined };
  const { events } = stored;
  return {
    enterprise_number: e.number,
    retailcrm: {
      domain: stored.domain,
      api_key: apiKey,
      enabled: stored.enabled && e.active,
      user_extensions: stored.user_extensions,
      events: { ...events },
      default_country: stored.default_country,
      recording_wait_seconds: stored.recording_wait_seconds,
      send_internal_calls: stored.send_internal_calls,
      missed_call_task: stored.missed_call_task,
      ...(stored.time_zone ? { time_zone: stored.time_zone } : {}),
    },
  };
}

/** Config-cache loader over the enterprises table. */
export function createRetailCrmConfigLoader(
  storage: Pick<Storage, 'getEnterprise' | 'listEnterprises'>,
  secrets: SecretBox,
): ConfigCacheLoader<EnterpriseRetailCrm> {
  return {
    async load(key) {
      const e = await storage.getEnterprise(key);
      return e ? toEnterpriseRetailCrm(e, secrets) : undefined;
    },
    async loadAll() {
      const all = await storage.listEnterprises();
      return all.map((e) => [e.number, toEnterpriseRetailCrm(e, secrets)] as const);
    },
  };
}
