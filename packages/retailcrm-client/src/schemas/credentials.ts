import { z } from 'zod';

/** `GET /api/v5/credentials`: what the key may call; the cheapest "test connection". */
export const credentialsResponseSchema = z.looseObject({
  success: z.literal(true),
  credentials: z.array(z.string()).default([]),
  siteAccess: z.string().optional(),
  sitesAvailable: z.array(z.string()).default([]),
});
export type CredentialsResponse = z.infer<typeof credentialsResponseSchema>;
