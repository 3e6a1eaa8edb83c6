import type { ConfigCacheLoader } from '@callbridge/config-cache';
import type { SecretBox } from '../secret-box.js';
import type { Enterprise, Storage } from '../storage/types.js';
import { type EventFlags, storedConfigSchema } from './config-schema.js';
import { INTEGRATION } from './service.js';

/** What the call path needs per enterprise, with the api_key decrypted (kept in memory only). */
export interface RetailCrmRuntimeConfig {
  enterpriseNumber: string;
  name: string;
  active: boolean;
  enabled: boolean;
  domain: string | null;
  apiKey: string | null;
  events: EventFlags;
  userExtensions: Record<string, string>;
  registered: boolean;
}

export function toRuntimeConfig(e: Enterprise, secrets: SecretBox): RetailCrmRuntimeConfig {
  const cfg = storedConfigSchema.parse(e.integrationsConfig[INTEGRATION] ?? {});
  let apiKey: string | null = null;
  if (cfg.api_key) {
    try {
      apiKey = secrets.isEncrypted(cfg.api_key) ? secrets.decrypt(cfg.api_key) : cfg.api_key;
    } catch {
      apiKey = null; // undecryptable (rotated SECRET_KEY): treated as not configured
    }
  }
  const userExtensions: Record<string, string> = {};
  for (const [u, x] of Object.entries(cfg.user_extensions)) if (x) userExtensions[u] = x;
  return {
    enterpriseNumber: e.number,
    name: e.name,
    active: e.active,
    enabled: cfg.enabled && e.active && Boolean(cfg.domain) && apiKey !== null,
    domain: cfg.domain ?? null,
    apiKey,
    events: cfg.events,
    userExtensions,
    registered: cfg.registered,
  };
}

export function createRuntimeConfigLoader(
  storage: Storage,
  secrets: SecretBox,
): ConfigCacheLoader<RetailCrmRuntimeConfig> {
  return {
    async load(key) {
      const e = await storage.getEnterprise(key);
      return e ? toRuntimeConfig(e, secrets) : undefined;
    },
    async loadAll() {
      const all = await storage.listEnterprises();
      return all.map((e) => [e.number, toRuntimeConfig(e, secrets)] as const);
    },
  };
}
