import { describe, expect, it } from 'vitest';
import { buildOpenApi } from './openapi.js';

describe('OpenAPI document', () => {
  it('covers every route under both admin prefixes with zod-derived bodies', () => {
    const doc = buildOpenApi('http://x') as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/api/config/{enterpriseNumber}',
      '/retailcrm-admin/api/config/{enterpriseNumber}',
      '/api/events',
      '/retailcrm/make-call',
      '/metrics',
    ]) {
      expect(doc.paths[p]).toBeDefined();
    }
    const put = doc.paths['/api/config/{enterpriseNumber}']?.put?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(put?.properties ?? {})).toEqual(
      expect.arrayContaining(['domain', 'api_key', 'enabled', 'events']),
    );
    // A settings save never takes user_extensions (so it cannot wipe them).
    expect(Object.keys(put?.properties ?? {})).not.toContain('user_extensions');
  });
});
