import type { RetailCrmApiFactory, RetailCrmEnterpriseConfig, RetailCrmTelephonyApi } from '../ports.js';

/** One API client per enterprise, rebuilt only when its domain or key changes (clients hold rate limiters). */
export function createApiCache(factory: RetailCrmApiFactory) {
  const apis = new Map<string, { fingerprint: string; api: RetailCrmTelephonyApi }>();
  return (enterprise: string, config: RetailCrmEnterpriseConfig): RetailCrmTelephonyApi => {
    const fingerprint = `${config.domain}\u0000${config.api_key}`;
    const cached = apis.get(enterprise);
    if (cached?.fingerprint === fingerprint) return cached.api;
    const api = factory(config, enterprise);
    apis.set(enterprise, { fingerprint, api });
    return api;
  };
}
