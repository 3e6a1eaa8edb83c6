import { redact } from '@callbridge/telephony-events';
import type { RetailCrmService } from '../retailcrm/service.js';

/**
 * Masks what the admin API shows of stored payloads: secret-looking fields (`api_key`, `token`, ...) and every
 * occurrence of the enterprise's own RetailCRM key, wherever it sits (a URL, a message).
 */
export async function createPayloadMasker(
  service: RetailCrmService,
  enterpriseNumber: string,
): Promise<<T>(value: T) => T> {
  let apiKey: string | undefined;
  try {
    apiKey = service.decryptKey(service.stored(await service.enterprise(enterpriseNumber)));
  } catch {
    // No enterprise or an undecryptable key: field-name masking still applies.
  }
  return (value) => redact(value, [apiKey]);
}
