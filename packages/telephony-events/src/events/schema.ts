import { z } from 'zod';

/** `CallType` as the PBX sends it: 0 incoming, 1 outgoing, 2 internal; an int or a numeric string. */
export const callTypeSchema = z
  .union([z.number().int(), z.string().trim().regex(/^\d+$/)])
  .transform((value) => Number(value));

/** `YYYY-MM-DD HH:MM:SS`, the PBX's local wall-clock time. */
export const pbxDateTimeSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected YYYY-MM-DD HH:MM:SS');

// Dialplans send "" for "not set"; treat it as absent rather than rejecting the event.
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalCallType = z.preprocess(blankToUndefined, callTypeSchema.optional().nullable());
const optionalDateTime = z.preprocess(blankToUndefined, pbxDateTimeSchema.optional().nullable());

// Numbers arrive as strings or ints depending on the dialplan; keep them as strings.
const looseString = z.union([z.string(), z.number()]).transform((value) => String(value));
const optionalString = looseString.optional().nullable();
// A list, or (some dialplans) one comma-separated string.
const extensionsSchema = z
  .union([z.array(z.union([z.string(), z.number(), z.null()])), z.string().transform((text) => text.split(','))])
  .transform((list) => list.map((item) => (item === null ? '' : String(item).trim())));

/** Fields shared by every event; unknown fields pass through untouched. */
const commonPayload = {
  UniqueId: looseString.pipe(z.string().min(1, 'UniqueId is required')),
  Token: optionalString,
  CallType: optionalCallType,
  Phone: optionalString,
  Trunk: optionalString,
  Extensions: extensionsSchema.optional().nullable(),
  CallerIDNum: optionalString,
  CallerIDName: optionalString,
  ConnectedLineNum: optionalString,
  ConnectedLineName: optionalString,
};

export const dialPayloadSchema = z.looseObject({ ...commonPayload });

export const bridgePayloadSchema = z.looseObject({
  ...commonPayload,
  Channel: optionalString,
  Exten: optionalString,
  BridgeUniqueid: optionalString,
});

export const hangupPayloadSchema = z.looseObject({
  ...commonPayload,
  CallStatus: optionalString,
  StartTime: optionalDateTime,
  EndTime: optionalDateTime,
});

/** A recovered hangup, possibly with a recording; never shows a call card. */
export const downloadPayloadSchema = z.looseObject({
  ...commonPayload,
  CallStatus: optionalString,
  StartTime: optionalDateTime,
  EndTime: optionalDateTime,
  RecordUrl: optionalString,
  RecordingUrl: optionalString,
  recording_url: optionalString,
});

export const EVENT_TYPES = ['dial', 'bridge', 'hangup', 'download'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const enterpriseNumber = looseString.pipe(z.string().trim().min(1, 'enterprise_number is required'));

/** The envelope the PBX side posts: `{enterprise_number, event_type, payload}`. */
export const telephonyEventSchema = z.discriminatedUnion('event_type', [
  z.looseObject({ enterprise_number: enterpriseNumber, event_type: z.literal('dial'), payload: dialPayloadSchema }),
  z.looseObject({ enterprise_number: enterpriseNumber, event_type: z.literal('bridge'), payload: bridgePayloadSchema }),
  z.looseObject({ enterprise_number: enterpriseNumber, event_type: z.literal('hangup'), payload: hangupPayloadSchema }),
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('download'),
    payload: downloadPayloadSchema,
  }),
]);

export type DialPayload = z.output<typeof dialPayloadSchema>;
export type BridgePayload = z.output<typeof bridgePayloadSchema>;
export type HangupPayload = z.output<typeof hangupPayloadSchema>;
export type DownloadPayload = z.output<typeof downloadPayloadSchema>;
/** A validated event (output of {@link telephonyEventSchema}). */
export type TelephonyEvent = z.output<typeof telephonyEventSchema>;
/** What a PBX may post (input of {@link telephonyEventSchema}). */
export type TelephonyEventInput = z.input<typeof telephonyEventSchema>;
