import { z } from 'zod';

/**
 * Wire formats of the Android dialer protocol (seed: phone-dialer-protocol.md).
 * Every object schema is loose: unknown fields are accepted and kept, because the Android client
 * and the server evolve independently.
 */

/** Ids travel as strings, but older clients and CRMs send numbers: accept both, normalise to string. */
const idString = z.union([z.string().min(1), z.number().int()]).transform((v) => String(v));
const isoDateTime = z.string().min(1);

// ---- auth ----
/** Body of `POST /api/token/`: username and password. */
export const tokenObtainRequestSchema = z.looseObject({
  username: z.string().min(1),
  password: z.string().min(1),
});
/** Answer of `POST /api/token/`: the access and refresh tokens. */
export const tokenObtainResponseSchema = z.looseObject({
  access: z.string(),
  refresh: z.string(),
  is_admin: z.boolean(),
});
/** Body of `POST /api/token/refresh/`. */
export const tokenRefreshRequestSchema = z.looseObject({ refresh: z.string().min(1) });
/** Answer of `POST /api/token/refresh/`. */
export const tokenRefreshResponseSchema = z.looseObject({
  access: z.string(),
  /** Present only when refresh rotation is enabled on the server. */
  refresh: z.string().optional(),
});
/** The seed does not fix the request field; `token` is canonical, `qr_token` is accepted too. */
export const qrExchangeRequestSchema = z
  .looseObject({ token: z.string().min(1).optional(), qr_token: z.string().min(1).optional() })
  .refine((v) => v.token !== undefined || v.qr_token !== undefined, { message: 'token is required', path: ['token'] });
/** Answer of `POST /api/phone/qr/exchange/`: a token pair. */
export const qrExchangeResponseSchema = z.looseObject({
  access: z.string(),
  refresh: z.string(),
  username: z.string(),
});
/** Answer of `GET /api/phone/user/info/`. */
export const userInfoResponseSchema = z.looseObject({
  id: z.string(),
  username: z.string(),
  is_admin: z.boolean(),
  is_active: z.boolean(),
});
/** simplejwt-compatible error body: `{detail}` and, for token errors, `code: "token_not_valid"`. */
export const authErrorSchema = z.looseObject({ detail: z.string(), code: z.string().optional() });

// ---- devices ----
/** Body of `POST /api/phone/devices/register/`. */
export const deviceRegisterRequestSchema = z.looseObject({
  device_id: z.string().min(1),
  device_name: z.string().optional(),
  /** Sent by the client only when non-empty. */
  fcm_token: z.string().optional(),
});
/** Answer of `POST /api/phone/devices/register/`. */
export const deviceRegisterResponseSchema = z.looseObject({ ok: z.literal(true), device_id: z.string() });

/** Body of `POST /api/phone/devices/heartbeat/`: the device's health. */
export const heartbeatRequestSchema = z.looseObject({
  device_id: z.string().min(1),
  device_name: z.string().optional(),
  app_version: z.string().optional(),
  last_poll_code: z.number().int().optional(),
  last_poll_at: isoDateTime.optional(),
  encryption_enabled: z.boolean().optional(),
  queue_stuck: z.boolean().optional(),
  stuck_count: z.number().int().nonnegative().optional(),
  oldest_stuck_age_sec: z.number().nonnegative().optional(),
  stuck_by_type: z.record(z.string(), z.number()).optional(),
});

// ---- calls ----
/** Query of `GET /api/phone/calls/pull/`. */
export const pullQuerySchema = z.looseObject({
  device_id: z.string().min(1),
  wait_seconds: z.string().optional(),
});
/** 200 body of calls/pull: the client reads `phone` (required) and `id` (as a string). */
export const callCommandSchema = z.looseObject({ id: idString, phone: z.string().min(1) });

/** How a call ended. */
export const callStatusSchema = z.enum(['connected', 'no_answer', 'rejected', 'no_action', 'unknown']);
/** What started a call. */
export const actionSourceSchema = z.enum(['crm_ui', 'notification', 'history', 'manual', 'unknown']);

/** Body of `POST /api/phone/calls/update/` in the legacy four-field form. */
export const legacyCallUpdateSchema = z.looseObject({
  call_request_id: idString,
  call_status: callStatusSchema,
  call_started_at: isoDateTime.nullish(),
  call_duration_seconds: z.number().nonnegative().nullish(),
});
/** Names of the fields whose presence makes a payload "extended". */
export const extendedCallUpdateFields = [
  'call_ended_at',
  'direction',
  'resolve_method',
  'resolve_reason',
  'reason_if_unknown',
  'attempts_count',
  'action_source',
] as const;
/** Body of `POST /api/phone/calls/update/` with the extended fields. */
export const extendedCallUpdateSchema = legacyCallUpdateSchema.extend({
  call_ended_at: isoDateTime.nullish(),
  direction: z.string().min(1).nullish(),
  resolve_method: z.string().min(1).nullish(),
  resolve_reason: z.string().nullish(),
  reason_if_unknown: z.string().nullish(),
  attempts_count: z.number().int().nonnegative().nullish(),
  action_source: actionSourceSchema.nullish(),
});
/** Answer of `POST /api/phone/calls/update/`. */
export const callUpdateResponseSchema = z.looseObject({ ok: z.literal(true), acknowledged: z.boolean() });

// ---- telemetry and logs ----
/** One telemetry item. */
export const telemetryItemSchema = z.looseObject({
  ts: isoDateTime,
  type: z.string().min(1),
  endpoint: z.string().optional(),
  http_code: z.number().int().optional(),
  value_ms: z.number().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});
/** Body of `POST /api/phone/telemetry/`. */
export const telemetryBatchSchema = z.looseObject({
  device_id: z.string().min(1),
  items: z.array(telemetryItemSchema).max(1000),
});
/** Body of `POST /api/phone/logs/`. */
export const logsBundleSchema = z.looseObject({
  device_id: z.string().min(1),
  ts: isoDateTime,
  level_summary: z.string().optional(),
  source: z.string().optional(),
  payload: z.string().max(5_000_000),
});
/** `{ok: true}` answers. */
export const okResponseSchema = z.looseObject({ ok: z.literal(true) });

/** The parsed type of {@link tokenObtainRequestSchema}. */
export type TokenObtainRequest = z.infer<typeof tokenObtainRequestSchema>;
/** The parsed type of {@link tokenObtainResponseSchema}. */
export type TokenObtainResponse = z.infer<typeof tokenObtainResponseSchema>;
/** The parsed type of {@link tokenRefreshResponseSchema}. */
export type TokenRefreshResponse = z.infer<typeof tokenRefreshResponseSchema>;
/** The parsed type of {@link qrExchangeResponseSchema}. */
export type QrExchangeResponse = z.infer<typeof qrExchangeResponseSchema>;
/** The parsed type of {@link userInfoResponseSchema}. */
export type UserInfoResponse = z.infer<typeof userInfoResponseSchema>;
/** The parsed type of {@link deviceRegisterRequestSchema}. */
export type DeviceRegisterRequest = z.infer<typeof deviceRegisterRequestSchema>;
/** The parsed type of {@link heartbeatRequestSchema}. */
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;
/** The parsed type of {@link callCommandSchema}. */
export type CallCommand = z.infer<typeof callCommandSchema>;
/** The parsed type of {@link callStatusSchema}. */
export type CallStatus = z.infer<typeof callStatusSchema>;
/** The parsed type of {@link actionSourceSchema}. */
export type ActionSource = z.infer<typeof actionSourceSchema>;
/** The parsed type of {@link legacyCallUpdateSchema}. */
export type LegacyCallUpdate = z.infer<typeof legacyCallUpdateSchema>;
/** The parsed type of {@link extendedCallUpdateSchema}. */
export type ExtendedCallUpdate = z.infer<typeof extendedCallUpdateSchema>;
/** The parsed type of {@link telemetryItemSchema}. */
export type TelemetryItem = z.infer<typeof telemetryItemSchema>;
/** The parsed type of {@link telemetryBatchSchema}. */
export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;
/** The parsed type of {@link logsBundleSchema}. */
export type LogsBundle = z.infer<typeof logsBundleSchema>;

/** Request schemas by route name, for documentation and contract tests. */
export const phoneRequestSchemas = {
  tokenObtain: tokenObtainRequestSchema,
  tokenRefresh: tokenRefreshRequestSchema,
  qrExchange: qrExchangeRequestSchema,
  deviceRegister: deviceRegisterRequestSchema,
  callsPull: pullQuerySchema,
  callsUpdate: extendedCallUpdateSchema,
  heartbeat: heartbeatRequestSchema,
  telemetry: telemetryBatchSchema,
  logs: logsBundleSchema,
} as const;

/** JSON Schema (draft 2020-12) of every request body/query, generated from the zod schemas (input side). */
export function phoneRequestJsonSchemas(): Record<keyof typeof phoneRequestSchemas, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(phoneRequestSchemas).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    ]),
  ) as Record<keyof typeof phoneRequestSchemas, Record<string, unknown>>;
}
