import { z } from 'zod';
import { isTimeZone } from '../time-zone.js';

/** Form posts send booleans as strings ("on", "true", "1"); JSON sends booleans. */
const formBool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['true', 'on', '1', 'yes'].includes(s)) return true;
  if (['false', 'off', '0', 'no', ''].includes(s)) return false;
  return v;
}, z.boolean());

/** `example.retailcrm.ru` or `https://example.retailcrm.ru/...` -> `https://example.retailcrm.ru`. */
export const domainSchema = z
  .string()
  .trim()
  .min(1, 'domain is required')
  .transform((v, ctx) => {
    const withScheme = /^https?:\/\//i.test(v) ? v : `https://${v}`;
    try {
      const u = new URL(withScheme);
      if (!u.hostname.includes('.')) throw new Error('no dot');
      return u.origin;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'domain must be a RetailCRM account URL like https://example.retailcrm.ru',
      });
      return z.NEVER;
    }
  });

export const eventFlagsSchema = z.object({
  incoming: formBool.default(true),
  outgoing: formBool.default(true),
  hangup: formBool.default(true),
  /** Upload finished calls to RetailCRM call history. */
  history: formBool.default(true),
  smart_redirect: formBool.default(false),
});
export type EventFlags = z.infer<typeof eventFlagsSchema>;

export const apiKeySchema = z.string().trim().min(8, 'api_key is too short').max(200);

/** Country for numbers without `+` (ISO 3166 alpha-2, e.g. `BY`, `RU`). */
const countrySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2}$/, 'default_country is a two-letter country code such as BY or RU')
  .transform((v) => v.toUpperCase());
const formInt = (min: number, max: number, name: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number().int().min(min, `${name} is ${min}-${max}`).max(max, `${name} is ${min}-${max}`),
  );
const timeZoneSchema = z.string().trim().refine(isTimeZone, 'time_zone must be an IANA zone such as Europe/Minsk');

/** Call-path settings of one enterprise (stored beside `events`; every one optional in a save). */
export const callSettingsSchema = z.object({
  /** Numbers the PBX sends without `+` are read in this country and sent to RetailCRM as E.164. */
  default_country: countrySchema,
  /** Seconds (0-120) a finished call's history upload waits for its recording; 0 = at once. */
  recording_wait_seconds: formInt(0, 120, 'recording_wait_seconds'),
  /** Send calls between two internal extensions to RetailCRM (they are not customer calls). */
  send_internal_calls: formBool,
  /** A missed incoming call creates a RetailCRM task for the responsible manager. */
  missed_call_task: formBool,
  /** IANA zone of the PBX clock; empty = the server's RETAILCRM_TIME_ZONE. */
  time_zone: z.union([timeZoneSchema, z.literal('').transform(() => null), z.null()]),
});
export type CallSettings = z.infer<typeof callSettingsSchema>;

/**
 * PUT body: `domain` plus any other field. A field left out keeps its stored value (a flag of `events` too), so a
 * form that does not know a newer setting cannot flip it. `user_extensions` is never taken from here.
 */
export const putConfigBodySchema = z.object({
  domain: domainSchema,
  /** Omitted, empty or the masked value sent back by the UI = keep the stored key. */
  api_key: z.string().trim().max(200).optional(),
  enabled: formBool.optional(),
  events: eventFlagsSchema.partial().optional(),
  ...callSettingsSchema.partial().shape,
});

/** PATCH body: any subset (same merge rule as PUT; `domain` optional too). */
export const patchConfigBodySchema = putConfigBodySchema.extend({ domain: domainSchema.optional() });

export const extensionSchema = z
  .string()
  .trim()
  .regex(/^\d{2,5}$/, 'an internal number is 2-5 digits');

const userIdSchema = z.string().regex(/^\d+$/, 'RetailCRM user id must be numeric');

/**
 * Save extensions body: `{extensions: {userId: ext|null}}` (JSON) or `{user_id, extension}` (one row,
 * what a form posts). `null` / empty string unassigns.
 */
export const saveExtensionsBodySchema = z.union([
  z.object({
    extensions: z.record(userIdSchema, z.union([extensionSchema, z.literal('').transform(() => null), z.null()])),
  }),
  z
    .object({
      user_id: z.union([userIdSchema, z.number().int().positive().transform(String)]),
      extension: z.union([extensionSchema, z.literal('').transform(() => null), z.null()]),
    })
    .transform((b) => ({ extensions: { [b.user_id]: b.extension } })),
]);

/** What is stored under `integrations_config.retailcrm` (api_key and callback_secret encrypted). */
export const storedConfigSchema = z.looseObject({
  domain: z.string().optional(),
  api_key: z.string().optional(),
  enabled: z.boolean().default(false),
  events: eventFlagsSchema.default(eventFlagsSchema.parse({})),
  user_extensions: z.record(z.string(), z.string().nullable()).default({}),
  last_sync: z.string().nullable().default(null),
  registered: z.boolean().default(false),
  registered_at: z.string().nullable().default(null),
  /** Encrypted secret expected in the query of RetailCRM's callbacks; rotated by every registration. */
  callback_secret: z.string().optional(),
  default_country: z.string().default('BY'),
  recording_wait_seconds: z.number().int().min(0).max(120).default(0),
  send_internal_calls: z.boolean().default(false),
  missed_call_task: z.boolean().default(false),
  time_zone: z.string().nullable().default(null),
});
export type StoredRetailCrmConfig = z.infer<typeof storedConfigSchema>;

/** `2026-12-01` (UTC midnight) or an ISO 8601 date-time with a zone (`Z` or `+03:00`). */
const isoInstant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/,
    'use an ISO 8601 date (2026-12-01) or date-time with a zone (2026-12-01T10:00:00+03:00)',
  )
  .transform((v, ctx) => {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not a real date' });
      return z.NEVER;
    }
    return d;
  });

/** Printable text without control characters (ids end up in SQL parameters and in the UI). */
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

/**
 * `GET /logs/:enterpriseNumber` query. `event`/`call_id` are the UI's names; `event_type`/`call_unique_id`
 * stay accepted for older clients. `phone` matches by digits: at least 3, the last 10 of a longer number (so
 * `8 999 123-45-67` finds `+79991234567`).
 */
export const logsQuerySchema = z
  .object({
    status: z.enum(['success', 'error', 'warning', 'skipped']).optional(),
    event: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'an event type is 1-64 letters, digits, _ . : -')
      .optional(),
    event_type: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'an event type is 1-64 letters, digits, _ . : -')
      .optional(),
    call_id: printable(128).optional(),
    call_unique_id: printable(128).optional(),
    phone: z
      .string()
      .max(32)
      .regex(/^\+?[0-9\s().-]+$/, 'a phone number is digits with optional + ( ) - . and spaces')
      .refine((v) => v.replace(/\D/g, '').length >= 3, 'a phone number needs at least 3 digits')
      .optional(),
    integration_type: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/)
      .default('retailcrm'),
    since: isoInstant.optional(),
    until: isoInstant.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .refine((q) => !(q.since && q.until && q.since > q.until), {
    message: 'since must not be after until',
    path: ['since'],
  });

/** Digits a phone filter searches for (see {@link logsQuerySchema}). */
export const phoneFilterDigits = (phone: string): string => phone.replace(/\D/g, '').slice(-10);

export const enterpriseNumberSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'invalid enterprise_number');
