import { describe, expect, it } from 'vitest';
import { defaultKeyFromPayload } from './key-from-payload.js';

describe('defaultKeyFromPayload', () => {
  it.each([
    ['{"enterprise_number":"0367","integration_type":"retailcrm"}', '0367'],
    ['{"enterprise_number":367}', '367'],
    ['{"integration_type":"retailcrm"}', undefined],
    ['{"enterprise_number":""}', undefined],
    ['', undefined],
    ['   ', undefined],
    ['0367', '0367'],
    [' 0367 ', '0367'],
    ['{not json', '{not json'],
  ])('%j -> %j', (payload, key) => {
    expect(defaultKeyFromPayload(payload)).toBe(key);
  });
});
