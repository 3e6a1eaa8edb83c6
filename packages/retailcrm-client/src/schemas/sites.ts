import { z } from 'zod';
import { phpObject } from './preprocess.js';

export const siteSchema = z.looseObject({
  code: z.string(),
  name: z.string().optional(),
  url: z.string().optional(),
  description: z.string().optional(),
  phone: z.string().optional(),
  isDemo: z.boolean().optional(),
  defaultForCrm: z.boolean().optional(),
  ymlUrl: z.string().optional(),
  countryIso: z.string().optional(),
});
export type RetailCrmSite = z.infer<typeof siteSchema>;

/** `GET /api/v5/reference/sites`: sites keyed by code (`[]` when there are none). */
export const sitesResponseSchema = z.looseObject({
  success: z.literal(true),
  sites: phpObject(z.record(z.string(), siteSchema)),
});
export type SitesResponse = z.infer<typeof sitesResponseSchema>;
