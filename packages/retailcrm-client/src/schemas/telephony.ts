import { z } from 'zod';
import { retailCrmDateTimeSchema } from './common.js';
import { customerSchema } from './customers.js';
import { userSchema } from './users.js';

/** Call-event hangup statuses; note the space in `no answered`. */
export const hangupStatusValues = ['answered', 'busy', 'cancel', 'failed', 'no answered'] as const;
/** Calls-upload results; note the spaces in `no answer` / `not allowed`. */
export const callResultValues = ['failed', 'answered', 'busy', 'no answer', 'not allowed', 'unknown'] as const;

export const callEventSchema = z.object({
  phone: z.string().min(1),
  type: z.enum(['in', 'out', 'hangup']),
  codes: z.array(z.string()).optional(),
  userIds: z.array(z.number().int()).optional(),
  site: z.string().optional(),
  hangupStatus: z.enum(hangupStatusValues).optional(),
  externalPhone: z.string().optional(),
  callExternalId: z.string().optional(),
  webAnalyticsData: z.record(z.string(), z.unknown()).optional(),
});
export type CallEvent = z.infer<typeof callEventSchema>;

export const callEventResponseSchema = z.looseObject({
  success: z.literal(true),
  notExistCodes: z.array(z.coerce.string()).optional(),
  notExistUsers: z.array(z.coerce.number()).optional(),
});
export type CallEventResponse = z.infer<typeof callEventResponseSchema>;

export const callRecordSchema = z.object({
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
});
export type CallRecord = z.infer<typeof callRecordSchema>;

export const uploadCallsResponseSchema = z.looseObject({
  success: z.literal(true),
  processedCallsCount: z.number().default(0),
  duplicateCalls: z.array(z.coerce.string()).default([]),
});
export type UploadCallsResponse = z.infer<typeof uploadCallsResponseSchema>;

export const responsibleManagerResponseSchema = z.looseObject({
  success: z.literal(true),
  manager: userSchema
    .pick({ id: true, firstName: true, lastName: true, patronymic: true, email: true })
    .extend({
      /** The manager's extension (additional code) when `details` was requested. */
      code: z.coerce.string().optional(),
    })
    .optional(),
  /** The customer the phone belongs to (ids only when RetailCRM omits the rest). */
  customer: customerSchema.partial().optional(),
  links: z
    .looseObject({
      newOrderLink: z.string().optional(),
      lastOrderLink: z.string().optional(),
      newCustomerLink: z.string().optional(),
      lastCustomerLink: z.string().optional(),
      customerOrdersLink: z.string().optional(),
    })
    .optional(),
});
export type ResponsibleManagerResponse = z.infer<typeof responsibleManagerResponseSchema>;

export interface ResponsibleManagerParams {
  phone: string;
  /** Include the manager's extension (`manager.code`). */
  details?: boolean;
  /** Return the manager even when not `free`. */
  ignoreStatus?: boolean;
}
