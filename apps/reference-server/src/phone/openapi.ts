import { phoneRequestJsonSchemas, phoneRoutes } from '@callbridge/phone-protocol';
import { z } from 'zod';
import { phoneUserBodySchema, qrBodySchema } from './admin-routes.js';

type Json = Record<string, unknown>;

const drfError: Json = { type: 'object', properties: { detail: { type: 'string' }, code: { type: 'string' } } };
const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

/** OpenAPI paths of the phone protocol and the phone admin routes (merged into `/openapi.json`). */
export function phoneOpenApiPaths(): Record<string, Json> {
  const bodies = phoneRequestJsonSchemas();
  const paths: Record<string, Json> = {};
  for (const route of phoneRoutes) {
    const schema = (bodies as Record<string, Json>)[route.name];
    const query =
      route.method === 'GET' && schema ? (schema.properties as Record<string, Json> | undefined) : undefined;
    const isPublic = ['tokenObtain', 'tokenRefresh', 'qrExchange'].includes(route.name);
    paths[route.path] = {
      [route.method.toLowerCase()]: {
        summary: `Phone protocol: ${route.name}`,
        tags: ['phone'],
        security: isPublic ? [] : [{ phoneJwt: [] }],
        ...(query
          ? { parameters: Object.entries(query).map(([name, s]) => ({ name, in: 'query', schema: s })) }
          : schema
            ? { requestBody: { required: true, content: jsonContent(schema) } }
            : {}),
        responses: {
          ...(route.name === 'callsPull' ? { '204': { description: 'no command in time' } } : {}),
          '200': { description: 'success' },
          '4XX': { description: 'client error (DRF shape)', content: jsonContent(drfError) },
        },
      },
    };
  }
  const toJson = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
  const enterprise = {
    name: 'enterpriseNumber',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
  };
  const adminOp = (summary: string, body?: z.ZodType) => ({
    summary,
    tags: ['phone'],
    security: [{ admin: [] }],
    parameters: [enterprise],
    ...(body ? { requestBody: { required: true, content: jsonContent(toJson(body)) } } : {}),
    responses: { '200': { description: 'success' }, '4XX': { description: 'client error' } },
  });
  paths['/api/phone-admin/users/{enterpriseNumber}'] = {
    get: adminOp('Phone users of an enterprise with their devices'),
    post: adminOp('Create or update a phone user bound to an extension', phoneUserBodySchema),
  };
  paths['/api/phone-admin/devices/{enterpriseNumber}/{deviceId}'] = {
    delete: {
      ...adminOp('Release a device of this enterprise so another user may register it'),
      parameters: [enterprise, { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' } }],
    },
  };
  paths['/api/phone-admin/qr/{enterpriseNumber}'] = {
    post: adminOp('One-time QR login token for a manager', qrBodySchema),
  };
  return paths;
}
