import { telephonyEventSchema } from '@callbridge/telephony-events';
import { z } from 'zod';
import { messengerOpenApiPaths, messengerSecuritySchemes } from './messenger/openapi.js';
import { phoneOpenApiPaths } from './phone/openapi.js';
import {
  logsQuerySchema,
  patchConfigBodySchema,
  putConfigBodySchema,
  saveExtensionsBodySchema,
} from './retailcrm/config-schema.js';

type Json = Record<string, unknown>;

/** Request schemas as JSON Schema (input side: what a client may send). */
const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;

const errorSchema: Json = {
  type: 'object',
  required: ['ok', 'error', 'message'],
  properties: { ok: { const: false }, error: { type: 'string' }, message: { type: 'string' }, details: {} },
};
const okSchema: Json = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { const: true } },
  additionalProperties: true,
};
const n = {
  name: 'enterpriseNumber',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
};

function op(summary: string, opts: { body?: z.ZodType; security?: string; params?: Json[]; ok?: string } = {}): Json {
  const responses: Json = {
    [opts.ok ?? '200']: { description: 'success', content: { 'application/json': { schema: okSchema } } },
    '4XX': { description: 'client error', content: { 'application/json': { schema: errorSchema } } },
  };
  return {
    summary,
    ...(opts.security ? { security: [{ [opts.security]: [] }] } : { security: [] }),
    ...(opts.params ? { parameters: opts.params } : {}),
    ...(opts.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: schema(opts.body) },
              'application/x-www-form-urlencoded': { schema: schema(opts.body) },
            },
          },
        }
      : {}),
    responses,
  };
}

const admin = 'admin';
const testBody = z.object({ domain: z.string().optional(), api_key: z.string().optional() });
const smartRedirectBody = z.object({
  enterprise_number: z.string(),
  phone: z.string(),
  channel: z.string().optional(),
  context: z.string().optional(),
});

/** OpenAPI 3.1 document of the server, generated from the same zod schemas the routes validate with. */
export function buildOpenApi(serverUrl: string): Json {
  const adminPaths: Record<string, Json> = {
    '/config/{enterpriseNumber}': {
      get: op('Read the RetailCRM config (api_key masked)', { security: admin, params: [n] }),
      put: op('Replace settings (user_extensions are kept)', {
        security: admin,
        params: [n],
        body: putConfigBodySchema,
      }),
      patch: op('Change some settings', { security: admin, params: [n], body: patchConfigBodySchema }),
      delete: op('Remove the integration and revoke account links', { security: admin, params: [n] }),
    },
    '/test/{enterpriseNumber}': {
      post: op('Test connection (stored or given domain/key)', { security: admin, params: [n], body: testBody }),
    },
    '/register/{enterpriseNumber}': {
      post: op('Save (optional body) and register the module', {
        security: admin,
        params: [n],
        body: patchConfigBodySchema,
      }),
    },
    '/unregister/{enterpriseNumber}': {
      post: op('Deactivate the module and revoke links', { security: admin, params: [n] }),
    },
    '/managers/{enterpriseNumber}': { get: op('RetailCRM managers with extensions', { security: admin, params: [n] }) },
    '/internal-phones/{enterpriseNumber}': { get: op('Internal phones with owners', { security: admin, params: [n] }) },
    '/user-extensions/{enterpriseNumber}': { get: op('Local extension map', { security: admin, params: [n] }) },
    '/save-extensions/{enterpriseNumber}': {
      post: op('Assign extensions and sync additionalCodes', {
        security: admin,
        params: [n],
        body: saveExtensionsBodySchema,
      }),
    },
    '/sync-extensions/{enterpriseNumber}': {
      post: op('Push the local map to RetailCRM', { security: admin, params: [n] }),
    },
    '/logs/{enterpriseNumber}': {
      get: op('Integration logs, newest first', {
        security: admin,
        params: [
          n,
          ...Object.entries((schema(logsQuerySchema).properties ?? {}) as Record<string, Json>).map(([name, s]) => ({
            name,
            in: 'query',
            required: false,
            schema: s,
          })),
        ],
      }),
    },
    '/config-cache/refresh/{enterpriseNumber}': {
      post: op('Reload one enterprise into the cache', { security: admin, params: [n] }),
    },
    '/config-cache/refresh-all': { post: op('Reload every enterprise (operator only)', { security: admin }) },
    '/config-cache/active-enterprises': {
      get: op('Enterprises with RetailCRM enabled (operator only)', { security: admin }),
    },
    '/config-cache/stats': { get: op('Cache metrics (operator only)', { security: admin }) },
    '/dead-letters': { get: op('Undeliverable events (operator only)', { security: admin }) },
    '/dead-letters/{enterpriseNumber}': {
      get: op("One enterprise's undeliverable events, newest first", {
        security: admin,
        params: [
          n,
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200 } },
          { name: 'before', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
        ],
      }),
    },
    '/dead-letters/{enterpriseNumber}/{id}': {
      get: op('One undeliverable event with its payload (masked)', {
        security: admin,
        params: [
          n,
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } },
        ],
      }),
    },
    '/dead-letters/{enterpriseNumber}/{id}/resend': {
      post: op('Put the event back on the delivery queue (idempotent)', {
        security: admin,
        params: [
          n,
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } },
        ],
        ok: '202',
      }),
    },
    '/whoami': { get: op('The authenticated principal', { security: admin }) },
  };
  const paths: Record<string, Json> = {};
  for (const [p, v] of Object.entries(adminPaths)) {
    paths[`/api${p}`] = v;
    paths[`/retailcrm-admin/api${p}`] = v;
  }
  // The original system's paths (`/retailcrm/api/...`) are served as well, with no proxy rule.
  for (const prefix of ['/api', '/retailcrm/api']) {
    paths[`${prefix}/events`] = {
      post: op('PBX event (202 once accepted)', { security: 'pbx', body: telephonyEventSchema, ok: '202' }),
    };
    paths[`${prefix}/smart-redirect`] = {
      post: op('Responsible manager extension', { security: 'pbx', body: smartRedirectBody }),
    };
  }
  const cb = (summary: string) => ({ get: op(summary), post: op(summary) });
  paths['/retailcrm/make-call'] = cb(
    'RetailCRM makeCallUrl: secret (from registration), clientId, phone, userId, code',
  );
  paths['/retailcrm/status'] = cb(
    'RetailCRM changeUserStatusUrl: secret (from registration), clientId, userId, code, status',
  );
  Object.assign(paths, phoneOpenApiPaths());
  Object.assign(paths, messengerOpenApiPaths());
  for (const [p, s] of [
    ['/health', 'Liveness'],
    ['/ready', 'Readiness (storage)'],
    ['/stats', 'JSON stats'],
    ['/metrics', 'Prometheus metrics'],
    ['/openapi.json', 'This document'],
  ] as const) {
    paths[p] = { get: op(s) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Callbridge reference server', version: '0.1.0' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        admin: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_TOKEN, or the RetailCRM account-link JWT (own enterprise only)',
        },
        phoneJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Phone access token' },
        ...messengerSecuritySchemes,
        pbx: {
          type: 'apiKey',
          in: 'header',
          name: 'X-PBX-Token',
          description: 'Enterprise PBX token (or payload.Token)',
        },
      },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
