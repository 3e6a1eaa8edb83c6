import { z } from 'zod';

/**
 * `GET /api/credentials` (unversioned, as all three official clients call it): what the key may call; the
 * cheapest "test connection".
 */
export const credentialsResponseSchema = z.looseObject({
  success: z.literal(true),
  /** Methods the key may call, e.g. `/api/telephony/call/event`. */
  credentials: z.array(z.string()).default([]),
  /** Access scopes of the key, e.g. `integration_read`, `telephony_write` (keys created by a module). */
  scopes: z.array(z.string()).default([]),
  siteAccess: z.string().optional(),
  sitesAvailable: z.array(z.string()).default([]),
});
/** Parsed {@link credentialsResponseSchema}; the lists default to empty when RetailCRM omits them. */
export type CredentialsResponse = z.infer<typeof credentialsResponseSchema>;

/** `GET /api/api-versions`: API versions the account serves, e.g. `["3.0", "4.0", "5.0"]`. */
export const apiVersionsResponseSchema = z.looseObject({
  success: z.literal(true),
  versions: z.array(z.coerce.string()),
});
/** Parsed {@link apiVersionsResponseSchema}; versions always as strings. */
export type ApiVersionsResponse = z.infer<typeof apiVersionsResponseSchema>;
