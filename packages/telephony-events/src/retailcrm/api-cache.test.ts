import { describe, expect, it } from 'vitest';
import { createFakeTelephonyApi } from '../testing/fake-telephony-api.js';
import { createApiCache } from './api-cache.js';

describe('createApiCache', () => {
  it('builds one client per enterprise and rebuilds it when the domain or key changes', () => {
    const built: string[] = [];
    const apiFor = createApiCache((config, enterprise) => {
      built.push(`${enterprise}:${config.api_key}`);
      return createFakeTelephonyApi();
    });
    const config = { domain: 'https://a.retailcrm.ru', api_key: 'k1', enabled: true, user_extensions: {} };
    const first = apiFor('0367', config);
    expect(apiFor('0367', { ...config })).toBe(first);
    apiFor('0368', config);
    expect(apiFor('0367', { ...config, api_key: 'k2' })).not.toBe(first);
    expect(built).toEqual(['0367:k1', '0368:k1', '0367:k2']);
  });
});
