import { z } from 'zod';
import { retailCrmDateTimeSchema, retailCrmIdSchema } from './common.js';
import { customerSchema } from './customers.js';
import { userSchema } from './users.js';

/** Call-event hangup statuses; note the space in `no answered`. */
export const hangupStatusValues = ['answered', 'busy', 'cancel', 'failed', 'no answered'] as const;
/** Calls-upload results; note the spaces in `no answer` / `not allowed`. */
export const callResultValues = ['failed', 'answered', 'busy', 'no answer', 'not allowed', 'unknown'] as const;

const callEventShape = {
  phone: z.string().min(1),
  type: z.enum(['in', 'out', 'hangup']),
  codes: z.array(z.string()).optional(),
  userIds: z.array(z.number().int()).optional(),
  site: z.string().optional(),
  hangupStatus: z.enum(hangupStatusValues).optional(),
  externalPhone: z.string().optional(),
  callExternalId: z.string().optional(),
  webAnalyticsData: z.record(z.string(), z.unknown()).optional(),
};
/** Unknown fields (the official model also has `source`, `clientId`) are sent as given, never stripped. */
export const callEventSchema = z.looseObject(callEventShape);
/** The documented fields; extra ones on the object you pass are sent too. */
export type CallEvent = z.infer<z.ZodObject<typeof callEventShape>>;

/** `POST /api/v5/telephony/call/event` answer: the extensions and user ids RetailCRM did not know. */
export const callEventResponseSchema = z.looseObject({
  success: z.literal(true),
  notExistCodes: z.array(z.coerce.string()).optional(),
  notExistUsers: z.array(z.coerce.number()).optional(),
});
/** Parsed {@link callEventResponseSchema}; codes as strings, user ids as numbers. */
export type CallEventResponse = z.infer<typeof callEventResponseSchema>;

const callRecordShape = {
  date: retailCrmDateTimeSchema,
  type: z.enum(['in', 'out']),
  phone: z.string().min(1),
  code: z.string().optional(),
  userId: z.number().int().optional(),
  result: z.enum(callResultValues),
  duration: z.number().int().nonnegative().optional(),
  durationWaiting: z.number().int().nonnegative().optional(),
  externalId: z.string().optional(),
  recordUrl: z.string().optional(),
  externalPhone: z.string().optional(),
  site: z.string().optional(),
};
/** Unknown fields are sent as given, never stripped. */
export const callRecordSchema = z.looseObject(callRecordShape);
/** The documented fields; extra ones on the object you pass are sent too. */
export type CallRecord = z.infer<z.ZodObject<typeof callRecordShape>>;

/** `POST /api/v5/telephony/calls/upload` answer: how many calls were stored and which were duplicates. */
export const uploadCallsResponseSchema = z.looseObject({
  success: z.literal(true),
  processedCallsCount: z.number().default(0),
  duplicateCalls: z.array(z.coerce.string()).default([]),
});
/** Parsed {@link uploadCallsResponseSchema}; `processedCallsCount` 0 and `duplicateCalls` empty when omitted. */
export type UploadCallsResponse = z.infer<typeof uploadCallsResponseSchema>;

/** `GET /api/v5/telephony/manager` answer: the manager, customer and card links for a phone. */
export const responsibleManagerResponseSchema = z.looseObject({
  success: z.literal(true),
  manager: userSchema
    .pick({ id: true, firstName: true, lastName: true, patronymic: true, email: true })
    .extend({
      /** The PHP model types it as a string: a numeric string is read as the number. */
      id: retailCrmIdSchema,
      /** The manager's extension (additional code) when `details` was requested. */
      code: z.coerce.string().optional(),
    })
    .optional(),
  /** The customer the phone belongs to (ids only when RetailCRM omits the rest). */
  customer: customerSchema.partial().extend({ id: retailCrmIdSchema.optional() }).optional(),
  links: z
    .looseObject({
      newOrderLink: z.string().optional(),
      lastOrderLink: z.string().optional(),
      newCustomerLink: z.string().optional(),
      lastCustomerLink: z.string().optional(),
      /** The existing customer's card (the official PHP model's `SerializedLinks::$customerLink`). */
      customerLink: z.string().optional(),
      customerOrdersLink: z.string().optional(),
    })
    .optional(),
});
/** Parsed {@link responsibleManagerResponseSchema}; ids always numbers. */
export type ResponsibleManagerResponse = z.infer<typeof responsibleManagerResponseSchema>;

/** Query of `GET /api/v5/telephony/manager`. */
export interface ResponsibleManagerParams {
  /** The phone whose responsible manager (and customer) to find. */
  phone: string;
  /** Include the manager's extension (`manager.code`). */
  details?: boolean;
  /** Return the manager even when not `free`. */
  ignoreStatus?: boolean;
}
