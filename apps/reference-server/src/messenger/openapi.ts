import { messageInJsonSchema, transportMessageJsonSchema } from '@callbridge/messenger-contract';

type Json = Record<string, unknown>;

const jsonContent = (schema: Json) => ({ 'application/json': { schema } });
const okOrError: Json = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
  additionalProperties: true,
};
const invalidKey: Json = { type: 'object', properties: { detail: { const: 'invalid_key' } } };
const tenantQuery = { name: 'tenant', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } };
const tenantPath = { name: 'tenant', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const kQuery = {
  name: 'k',
  in: 'query',
  required: true,
  description: 'PUBLIC_KEY, or the tenant key',
  schema: { type: 'string' },
};
const tokenQuery = {
  name: 'token',
  in: 'query',
  required: false,
  description: 'provider token (or X-Provider-Token)',
  schema: { type: 'string' },
};

function op(
  summary: string,
  opts: {
    security?: string;
    params?: Json[];
    body?: Json;
    errors?: Record<string, string>;
    produces?: string;
  } = {},
): Json {
  const responses: Json = {
    '200': {
      description: 'success',
      content: opts.produces ? { [opts.produces]: { schema: {} } } : jsonContent(okOrError),
    },
  };
  for (const [status, description] of Object.entries(opts.errors ?? {})) {
    responses[status] = {
      description,
      content: jsonContent(opts.security === 'publicKey' && status === '401' ? invalidKey : okOrError),
    };
  }
  return {
    summary,
    tags: ['messenger'],
    security: opts.security ? [{ [opts.security]: [] }] : [],
    ...(opts.params ? { parameters: opts.params } : {}),
    ...(opts.body ? { requestBody: { required: true, content: jsonContent(opts.body) } } : {}),
    responses,
  };
}

/** Security schemes of the messenger hub routes (merged into `/openapi.json`). */
export const messengerSecuritySchemes: Record<string, Json> = {
  adminToken: { type: 'apiKey', in: 'header', name: 'X-Admin-Token', description: 'ADMIN_TOKEN' },
  providerToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'per-tenant provider token (or X-Provider-Token)',
  },
  publicKey: { type: 'apiKey', in: 'query', name: 'k', description: 'PUBLIC_KEY or the tenant key' },
  waWebToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'WA_WEB_TOKEN (default ADMIN_TOKEN)' },
};

/** OpenAPI paths of the messenger hub; bodies come from the contract's zod schemas. */
export function messengerOpenApiPaths(): Record<string, Json> {
  const webhookErrors = {
    '401': 'provider_token_unauthorized',
    '422': 'invalid_payload | invalid_qr',
    '503': 'enqueue_failed | dedup_unavailable',
  };
  const pub = (summary: string, errors: Record<string, string> = {}, extra: Json[] = [], produces?: string) =>
    op(summary, {
      security: 'publicKey',
      params: [tenantQuery, kQuery, ...extra],
      errors: { '401': 'invalid_key', '422': 'invalid_tenant', ...errors },
      produces,
    });
  const qrId = { name: 'qr_id', in: 'query', required: false, schema: { type: 'string' } };
  return {
    '/send': {
      post: op('Send a TransportMessage through the channel adapter (idempotent on client_msg_id)', {
        security: 'adminToken',
        body: transportMessageJsonSchema(),
        errors: {
          '401': 'unauthorized',
          '403': 'outbox_disabled | not_whitelisted',
          '409': 'send_in_progress',
          '422': 'invalid_payload (or a refusal before delivery, e.g. missing_chat)',
          '502': 'upstream failure {ok:false, error, retryable, retry_after?}',
        },
      }),
    },
    '/webhook': {
      post: op('Inbound MessageIn from waweb / tgworker: messages.incoming, qr, ready, messages.status', {
        security: 'providerToken',
        params: [tokenQuery],
        body: messageInJsonSchema(),
        errors: webhookErrors,
      }),
    },
    '/webhook/telegram': {
      post: op('Inbound Telegram message (event and channel default to messages.incoming / telegram)', {
        security: 'providerToken',
        params: [tokenQuery],
        body: { type: 'object', additionalProperties: true },
        errors: webhookErrors,
      }),
    },
    '/webhook/avito': {
      post: op('Avito messenger webhook (tenant from ?tenant= or from the token)', {
        security: 'providerToken',
        params: [tokenQuery, { ...tenantQuery, required: false }],
        body: { type: 'object', additionalProperties: true },
        errors: webhookErrors,
      }),
    },
    '/webhook/avito/{tenant}': {
      post: op('Avito messenger webhook for one tenant', {
        security: 'providerToken',
        params: [tenantPath, tokenQuery],
        body: { type: 'object', additionalProperties: true },
        errors: webhookErrors,
      }),
    },
    '/pub/tg/start': (() => {
      const start = pub('Start the Telegram QR login: qr_id, expires_at, state, qr_url', {
        '409': 'already_authorized',
        '502': 'tg_unavailable | qr_expired',
      });
      return { get: start, post: start };
    })(),
    '/pub/tg/status': {
      get: pub('Telegram login state: state, authorized, needs_2fa, qr_id, qr_url', { '502': 'tg_unavailable' }),
    },
    '/pub/tg/qr.png': {
      get: pub(
        'PNG of the current QR',
        { '404': 'qr_not_found', '410': 'qr_expired', '502': 'tg_unavailable' },
        [{ ...qrId, required: true }],
        'image/png',
      ),
    },
    '/pub/tg/2fa': {
      post: {
        ...op('Submit the 2FA password ({tenant, password})', {
          security: 'publicKey',
          params: [kQuery],
          body: {
            type: 'object',
            required: ['tenant', 'password'],
            properties: { tenant: { type: 'integer' }, password: { type: 'string' } },
          },
          errors: { '401': 'invalid_key | bad_password', '409': 'not_waiting_2fa', '502': 'tg_unavailable' },
        }),
      },
    },
    '/pub/wa/start': {
      get: pub('Start the tenant WhatsApp session (QR)', { '502': 'wa_unavailable' }),
      post: pub('Start the tenant WhatsApp session (QR)', { '502': 'wa_unavailable' }),
    },
    '/pub/wa/status': { get: pub('WhatsApp session: ready, qr, qr_id, qr_url', { '502': 'wa_unavailable' }) },
    '/pub/wa/qr.svg': {
      get: pub('SVG of the QR (cached from the qr webhook, else from waweb)', {}, [qrId], 'image/svg+xml'),
    },
    '/pub/settings/get': { get: pub('Public tenant settings {ok, cfg:{integrations:{uploaded_catalog}}}') },
    '/pub/catalog/upload': {
      post: {
        ...pub('Upload a catalog (.pdf .csv .xlsx .xls): {ok, job_id, state:"queued"}', {
          '400': 'empty_file | unsupported_type | file_too_large (max_size_bytes)',
          '422': 'invalid_payload: invalid_tenant | missing_file',
        }),
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                properties: { file: { type: 'string', format: 'binary' } },
              },
            },
          },
        },
      },
    },
    '/pub/catalog/jobs/{jobId}': {
      get: pub('Catalog job status', { '404': 'job_not_found' }, [
        { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } },
      ]),
    },
    '/pub/catalog/status': {
      get: pub('Catalog job status (job id in the query)', { '404': 'job_not_found' }, [
        { name: 'job_id', in: 'query', required: true, schema: { type: 'string' } },
      ]),
    },
    '/admin/key/get': {
      get: op('The tenant key (created on first call; 1 tenant = 1 key)', {
        security: 'adminToken',
        params: [tenantQuery],
        errors: { '401': 'unauthorized' },
      }),
    },
    ...Object.fromEntries(
      ['/admin/key/create', '/admin/key/save'].map((path) => [
        path,
        {
          post: op('Create the tenant key ({tenant, key?}); 409 when one exists', {
            security: 'adminToken',
            body: {
              type: 'object',
              required: ['tenant'],
              properties: { tenant: { type: 'integer' }, key: { type: 'string' } },
            },
            errors: { '401': 'unauthorized', '409': 'key_already_exists' },
          }),
        },
      ]),
    ),
    '/admin/key/{tenant}': {
      delete: op('Delete the tenant key', { security: 'adminToken', params: [tenantPath] }),
    },
    '/admin/provider-token/{tenant}': {
      get: op('The tenant provider token (created on first call)', { security: 'adminToken', params: [tenantPath] }),
    },
    '/admin/keys/list': {
      get: op('Tenant key and provider token', { security: 'adminToken', params: [tenantQuery] }),
    },
    '/admin/messenger/events': {
      get: op('Stored inbound events (webhook_events), newest first, and the inbox length', {
        security: 'adminToken',
        params: [tenantQuery],
      }),
    },
    '/admin/avito/{tenant}/connect': {
      post: op('Exchange an Avito OAuth code, store the tokens (encrypted) and subscribe the webhook', {
        security: 'adminToken',
        params: [tenantPath],
        body: {
          type: 'object',
          required: ['code'],
          properties: { code: { type: 'string' }, redirect_uri: { type: 'string' } },
        },
        errors: { '502': 'Avito error code', '503': 'avito_not_configured' },
      }),
    },
    '/admin/contacts': {
      get: op('The tenant contacts (newest first) with their leads per channel and reply peers', {
        security: 'adminToken',
        params: [
          tenantQuery,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
          { name: 'before', in: 'query', schema: { type: 'integer' } },
        ],
        errors: { '401': 'unauthorized (admin token, or the tenant key as X-Tenant-Key / ?k=)' },
      }),
    },
    '/admin/contacts/{id}': {
      get: op('One contact with its leads; 404 contact_not_found (with merged_into when merged)', {
        security: 'adminToken',
        params: [tenantQuery, { name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        errors: { '401': 'unauthorized', '404': 'contact_not_found' },
      }),
    },
    '/admin/leads/{id}/messages': {
      get: op("A lead's conversation (inbound, /send, auto-replies), oldest first", {
        security: 'adminToken',
        params: [tenantQuery, { name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        errors: { '401': 'unauthorized', '404': 'lead_not_found' },
      }),
    },
    '/admin/persona/{tenant}': {
      get: op('Effective persona (tenant override or default), passport, links and the rendered prompt', {
        security: 'adminToken',
        params: [
          tenantPath,
          { name: 'channel', in: 'query', schema: { type: 'string', enum: ['telegram', 'whatsapp', 'avito'] } },
        ],
      }),
      put: op('Set the override (template; null = default), passport {agent_name, brand, city}, links', {
        security: 'adminToken',
        params: [tenantPath],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            template: { type: ['string', 'null'], maxLength: 20000 },
            passport: {
              type: 'object',
              additionalProperties: false,
              properties: { agent_name: { type: 'string' }, brand: { type: 'string' }, city: { type: 'string' } },
            },
            whatsapp_link: { type: ['string', 'null'] },
            catalog_url: { type: ['string', 'null'] },
          },
        },
        errors: { '401': 'unauthorized', '422': 'invalid_payload' },
      }),
    },
    '/admin/auto-reply/{tenant}': {
      get: op('The tenant auto-reply switch: {enabled, configured}', { security: 'adminToken', params: [tenantPath] }),
      put: op('Switch the tenant auto-reply ({enabled})', {
        security: 'adminToken',
        params: [tenantPath],
        body: {
          type: 'object',
          required: ['enabled'],
          additionalProperties: false,
          properties: { enabled: { type: 'boolean' } },
        },
        errors: { '401': 'unauthorized', '422': 'invalid_payload' },
      }),
    },
    '/connect/wa': {
      get: pub('HTML page: the tenant WhatsApp QR (from the cache) and session state', {}, [], 'text/html'),
    },
    '/connect/avito': {
      get: pub(
        'HTML page: starts the Avito OAuth authorization-code flow',
        { '503': 'avito_not_configured' },
        [],
        'text/html',
      ),
    },
    '/connect/avito/callback': {
      get: {
        summary: 'Avito OAuth callback (code, state); HTML page',
        parameters: [
          { name: 'code', in: 'query', schema: { type: 'string' } },
          { name: 'state', in: 'query', schema: { type: 'string' } },
          { name: 'error', in: 'query', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'connected' }, '400': { description: 'invalid_state | access_denied' } },
      },
    },
    '/internal/tenant/{tenant}/ensure': {
      post: op('waweb: get or create the tenant provider token', {
        security: 'waWebToken',
        params: [tenantPath],
        errors: { '401': 'unauthorized' },
      }),
    },
  };
}
