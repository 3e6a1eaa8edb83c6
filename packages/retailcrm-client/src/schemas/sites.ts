import { z } from 'zod';
import { phpObject } from './preprocess.js';

/** A site (store) of the account; `code` is what other calls take as `site`. */
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
/** Parsed {@link siteSchema}. */
export type RetailCrmSite = z.infer<typeof siteSchema>;

/** `GET /api/v5/reference/sites`: sites keyed by code (`[]` when there are none). */
export const sitesResponseSchema = z.looseObject({
  success: z.literal(true),
  sites: phpObject(z.record(z.string(), siteSchema)),
});
/** Parsed {@link sitesResponseSchema}; `sites` always an object keyed by site code. */
export type SitesResponse = z.infer<typeof sitesResponseSchema>;
