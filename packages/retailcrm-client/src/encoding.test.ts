import { describe, expect, it } from 'vitest';
import { encodeForm, encodeQuery } from './encoding.js';

describe('encodeQuery', () => {
  it('uses PHP bracket notation and 1/0 for booleans', () => {
    const query = encodeQuery({
      page: 2,
      limit: undefined,
      filter: { name: 'Ivan', groups: ['sales', 'support'], active: true, online: false },
    });
    expect(decodeURIComponent(query.toString())).toBe(
      'page=2&filter[name]=Ivan&filter[groups][]=sales&filter[groups][]=support&filter[active]=1&filter[online]=0',
    );
  });
});

describe('encodeForm', () => {
  it('sends nested values as one JSON string field and skips undefined', () => {
    const form = encodeForm({
      integrationModule: { code: 'x', integrations: { telephony: {} } },
      site: undefined,
      by: 'id',
    });
    expect([...form.keys()]).toEqual(['integrationModule', 'by']);
    expect(JSON.parse(form.get('integrationModule')!)).toEqual({ code: 'x', integrations: { telephony: {} } });
  });
});
