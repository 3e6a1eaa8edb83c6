import { z } from 'zod';
import { telephonyEventSchema } from './schema.js';

/** JSON Schema (draft 2020-12) of the event envelope as the PBX posts it, for OpenAPI documents. */
export function telephonyEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(telephonyEventSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
