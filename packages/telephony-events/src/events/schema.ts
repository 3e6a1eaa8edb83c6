import { z } from 'zod';

/** `CallType` as the PBX sends it: 0 incoming, 1 outgoing, 2 internal; an int or a numeric string. */
export const callTypeSchema = z
  .union([z.number().int(), z.string().trim().regex(/^\d+$/)])
  .transform((value) => Number(value));

/**
 * A PBX time stamp in any form the original system sends: `YYYY-MM-DD HH:MM:SS` (PBX local wall clock), ISO-8601
 * with or without an offset (`2026-11-30T10:00:00`, `2026-11-30T10:00:00+03:00`, `...Z`), or epoch seconds (number or
 * digits). Kept as a string; `toWallClock` turns it into RetailCRM's `Y-m-d H:i:s` in the enterprise's zone.
 */
export const pbxDateTimeSchema = z
  .union([z.string().trim(), z.number().int().nonnegative().transform(String)])
  .pipe(
    z
      .string()
      .regex(
        /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?|\d{9,11})$/,
        'expected YYYY-MM-DD HH:MM:SS, ISO-8601 (with or without offset) or epoch seconds',
      ),
  );

// Dialplans send "" for "not set"; treat it as absent rather than rejecting the event.
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalCallType = z.preprocess(blankToUndefined, callTypeSchema.optional().nullable());
const optionalDateTime = z.preprocess(blankToUndefined, pbxDateTimeSchema.optional().nullable());

// Numbers arrive as strings or ints depending on the dialplan; keep them as strings.
const looseString = z.union([z.string(), z.number()]).transform((value) => String(value));
const optionalString = looseString.optional().nullable();
// A list, or one comma-separated string; each item may be an Asterisk ring group (`152&151&153`). Items stay raw
// (channel names included): `extensionFromToken` reduces them, so unknown ones can be reported, not dropped.
const extensionsSchema = z
  .union([z.array(z.union([z.string(), z.number(), z.null()])), z.string(), z.number()])
  .transform((value) => (Array.isArray(value) ? value : String(value).split(',')))
  .transform((list) =>
    list.flatMap((item) => (item === null ? [''] : String(item).split('&'))).map((item) => item.trim()),
  );
// `true`, "true", 1, "1" (dialplans send strings).
const looseFlag = z
  .union([z.boolean(), z.number(), z.string()])
  .transform((value) => value === true || value === 1 || /^(true|1|yes)$/i.test(String(value).trim()));

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
  /** The original's marker of a click-to-call started by the CRM (its `web-originate` context). */
  ExternalInitiated: looseFlag.optional().nullable(),
  /** Our own marker: set by the dialplan from the `CALLBRIDGE_ORIGINATE` variable of our AMI Originate. */
  CallbridgeOriginate: looseFlag.optional().nullable(),
  CallStatus: optionalString,
  StartTime: optionalDateTime,
  EndTime: optionalDateTime,
  /** Recording URL under any of the names the original and its forks use. */
  record_url: optionalString,
  RecordUrl: optionalString,
  RecordingUrl: optionalString,
  recording_url: optionalString,
};

/** Payload of `dial`: a call is ringing (opens the CRM's call card). */
export const dialPayloadSchema = z.looseObject({ ...commonPayload });

/** Payload of `bridge`: two legs were connected (`Channel`, `Exten`, `BridgeUniqueid` added); no CRM call. */
export const bridgePayloadSchema = z.looseObject({
  ...commonPayload,
  Channel: optionalString,
  Exten: optionalString,
  BridgeUniqueid: optionalString,
});

/** Payload of `hangup`: the call ended (closes the card, uploads the call to the history). */
export const hangupPayloadSchema = z.looseObject({ ...commonPayload });

/** A recovered hangup, possibly with a recording; never shows a call card. */
export const downloadPayloadSchema = z.looseObject({ ...commonPayload });

/** The call entered the dialplan (the original's `start`): accepted and counted, no CRM call. */
export const startPayloadSchema = z.looseObject({ ...commonPayload });

/** Every `event_type` the PBX posts, in the order of a call's life. */
export const EVENT_TYPES = ['start', 'dial', 'bridge', 'hangup', 'download'] as const;
/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

const enterpriseNumber = looseString.pipe(z.string().trim().min(1, 'enterprise_number is required'));

// The original's recovery path puts the recording beside the payload.
const envelopeRecording = { record_url: optionalString, recording_url: optionalString };

/** The envelope the PBX side posts: `{enterprise_number, event_type, payload}` (+ `record_url`). */
export const telephonyEventSchema = z.discriminatedUnion('event_type', [
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('start'),
    payload: startPayloadSchema,
    ...envelopeRecording,
  }),
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('dial'),
    payload: dialPayloadSchema,
    ...envelopeRecording,
  }),
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('bridge'),
    payload: bridgePayloadSchema,
    ...envelopeRecording,
  }),
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('hangup'),
    payload: hangupPayloadSchema,
    ...envelopeRecording,
  }),
  z.looseObject({
    enterprise_number: enterpriseNumber,
    event_type: z.literal('download'),
    payload: downloadPayloadSchema,
    ...envelopeRecording,
  }),
]);

/** A validated `dial` payload (output of {@link dialPayloadSchema}). */
export type DialPayload = z.output<typeof dialPayloadSchema>;
/** A validated `bridge` payload (output of {@link bridgePayloadSchema}). */
export type BridgePayload = z.output<typeof bridgePayloadSchema>;
/** A validated `hangup` payload (output of {@link hangupPayloadSchema}). */
export type HangupPayload = z.output<typeof hangupPayloadSchema>;
/** A validated `download` payload (output of {@link downloadPayloadSchema}). */
export type DownloadPayload = z.output<typeof downloadPayloadSchema>;
/** A validated `start` payload (output of {@link startPayloadSchema}). */
export type StartPayload = z.output<typeof startPayloadSchema>;
/** Any event's payload (all kinds share the fields the mapping reads). */
export type EventPayload = HangupPayload;
/** A validated event (output of {@link telephonyEventSchema}). */
export type TelephonyEvent = z.output<typeof telephonyEventSchema>;
/** What a PBX may post (input of {@link telephonyEventSchema}). */
export type TelephonyEventInput = z.input<typeof telephonyEventSchema>;
