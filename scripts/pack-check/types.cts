// The CommonJS side of the type-level tests (node16 resolution picks the `require` types of every entry).
import { createRetailCrmClient } from '@callbridge/retailcrm-client';
import type { RetailCrmTelephonyApi } from '@callbridge/telephony-events';
import { createRedisQueue } from '@callbridge/telephony-events/redis';

export const api: RetailCrmTelephonyApi = createRetailCrmClient({
  url: 'https://demo.retailcrm.ru',
  apiKey: 'k',
}).telephony;
export const queue = () => createRedisQueue({ connection: 'redis://127.0.0.1:6379' });
