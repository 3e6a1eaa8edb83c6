import { z } from 'zod';
import { jsonStringOr, phpObject } from './preprocess.js';

/** One manager extension of the telephony integration: RetailCRM user id and the PBX extension. */
export const additionalCodeSchema = z.looseObject({
  userId: z.union([z.string(), z.number()]),
  code: z.union([z.string(), z.number()]),
});
/** Parsed {@link additionalCodeSchema}. */
export type AdditionalCode = z.infer<typeof additionalCodeSchema>;

/** One external (trunk) number of the PBX and the code of the site its calls belong to. */
export const externalPhoneSchema = z.looseObject({ siteCode: z.string(), externalPhone: z.string() });
/** Parsed {@link externalPhoneSchema}. */
export type ExternalPhone = z.infer<typeof externalPhoneSchema>;

/** `integrations.telephony` of an integration module: callback URLs, supported events, extensions, numbers. */
export const telephonySettingsSchema = z.looseObject({
  makeCallUrl: z.string().optional(),
  changeUserStatusUrl: z.string().optional(),
  allowEdit: z.boolean().optional(),
  inputEventSupported: z.boolean().optional(),
  outputEventSupported: z.boolean().optional(),
  hangupEventSupported: z.boolean().optional(),
  additionalCodes: z.array(additionalCodeSchema).optional(),
  externalPhones: z.array(externalPhoneSchema).optional(),
});
/** Parsed {@link telephonySettingsSchema}. */
export type TelephonySettings = z.infer<typeof telephonySettingsSchema>;

/** An integration module as RetailCRM holds it (`integrationModule` of `GET /integration-modules/{code}`). */
export const integrationModuleSchema = z.looseObject({
  code: z.string(),
  integrationCode: z.string().optional(),
  active: z.boolean().optional(),
  freeze: z.boolean().optional(),
  name: z.string().optional(),
  logo: z.string().optional(),
  clientId: z.string().optional(),
  baseUrl: z.string().optional(),
  accountUrl: z.string().optional(),
  availableCountries: z.array(z.string()).optional(),
  /** Read-only view of what the account holds; the telephony builder never sends `actions`. */
  actions: phpObject(z.record(z.string(), z.string())).optional(),
  integrations: z
    .looseObject({
      telephony: telephonySettingsSchema.optional(),
    })
    .optional(),
});
/** Parsed {@link integrationModuleSchema}. */
export type IntegrationModule = z.infer<typeof integrationModuleSchema>;

/** `GET /integration-modules/{code}`: `integrationModule` may arrive as an object or a JSON string. */
export const integrationModuleResponseSchema = z.looseObject({
  success: z.literal(true),
  integrationModule: jsonStringOr(integrationModuleSchema),
});
/** Parsed {@link integrationModuleResponseSchema}; `integrationModule` always an object. */
export type IntegrationModuleResponse = z.infer<typeof integrationModuleResponseSchema>;

/** `POST /integration-modules/{code}/edit`: `info` is `[]` when empty. */
export const integrationModuleEditResponseSchema = z.looseObject({
  success: z.literal(true),
  info: phpObject(z.record(z.string(), z.unknown())).optional(),
});
/** Parsed {@link integrationModuleEditResponseSchema}; `info` always an object when present. */
export type IntegrationModuleEditResponse = z.infer<typeof integrationModuleEditResponseSchema>;

/** `POST /integration-modules/{code}/update-scopes` answer: a NEW API key carrying the granted scopes (a secret). */
export const integrationModuleUpdateScopesResponseSchema = z.looseObject({
  success: z.literal(true),
  apiKey: z.string(),
});
/** Parsed {@link integrationModuleUpdateScopesResponseSchema}; treat `apiKey` as a secret (never log it). */
export type IntegrationModuleUpdateScopesResponse = z.infer<typeof integrationModuleUpdateScopesResponseSchema>;
