import { z } from 'zod';
import { TimestampSchema } from './timestamp.js';
import { SPECIFICATION_VERSION } from './version.js';

/** The messaging channels the contract covers. */
export const ChannelSchema = z.enum(['telegram', 'whatsapp', 'avito']);
/** A messaging channel: `telegram`, `whatsapp` or `avito`. */
export type Channel = z.infer<typeof ChannelSchema>;
/** Every Channel, in ChannelSchema order. */
export const CHANNELS: readonly Channel[] = ChannelSchema.options;

/** Largest tenant id: the `integer` columns that store it (PostgreSQL int4). */
export const MAX_TENANT_ID = 2_147_483_647;

/** Tenant id: a positive integer up to `MAX_TENANT_ID` (2^31 - 1); numeric strings (query strings, form posts) too. */
export const TenantSchema = z.union([
  z.number().int().positive().max(MAX_TENANT_ID),
  z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number)
    .pipe(z.number().max(MAX_TENANT_ID)),
]);

/** Provider message/reply ids may be numbers (Telegram) or strings (WhatsApp, Avito); kept as strings. */
const IdSchema = z.union([z.string().min(1).max(256), z.number().int()]).transform(String);

/** An outgoing attachment: a `type` and an http(s) `url`, with optional name, MIME type and caption. */
export const AttachmentSchema = z.looseObject({
  type: z.string().min(1).max(32),
  url: z.url({ protocol: /^https?$/ }),
  name: z.string().max(255).optional(),
  mime: z.string().max(255).optional(),
  caption: z.string().max(4096).optional(),
});
/** An outgoing attachment (output of AttachmentSchema). */
export type Attachment = z.infer<typeof AttachmentSchema>;

/**
 * A POST /send body: tenant, channel, recipient `to`, and text and/or up to 10 attachments; unknown fields are kept.
 */
export const TransportMessageSchema = z
  .looseObject({
    tenant: TenantSchema,
    channel: ChannelSchema,
    /** Channel-specific recipient: see normaliseWhatsAppAddress / resolveTelegramTarget / Avito chat id. */
    to: z.union([z.string().trim().min(1).max(256), z.number().int()]),
    text: z.string().max(65536).optional(),
    attachments: z.array(AttachmentSchema).max(10).optional(),
    meta: z.looseObject({ reply_to: z.union([z.string().min(1), z.number().int()]).optional() }).optional(),
    /** Caller's idempotency key for the send: the same key is delivered at most once. */
    client_msg_id: z.string().min(1).max(128).optional(),
  })
  .refine((m) => (m.text !== undefined && m.text.trim() !== '') || (m.attachments?.length ?? 0) > 0, {
    message: 'at least one of text or attachments is required',
    path: ['text'],
  });
/** A validated outgoing message (output of TransportMessageSchema; tenant is a number). */
export type TransportMessage = z.infer<typeof TransportMessageSchema>;
/** What a sender may post before validation (input of TransportMessageSchema; tenant may be a numeric string). */
export type TransportMessageInput = z.input<typeof TransportMessageSchema>;

/** A media item of an inbound message: a `type` plus a `url` or a provider file `id` (at least one of them). */
export const InboundMediaSchema = z
  .looseObject({
    type: z.string().min(1).max(32),
    url: z.string().min(1).optional(),
    id: z.string().min(1).optional(),
    name: z.string().optional(),
    mime: z.string().optional(),
    mime_type: z.string().optional(),
    caption: z.string().optional(),
  })
  .refine((m) => m.url !== undefined || m.id !== undefined, { message: 'media needs url or id' });
/** A media item of an inbound message (output of InboundMediaSchema). */
export type InboundMedia = z.infer<typeof InboundMediaSchema>;

const ProviderSchema = ChannelSchema;

/** Sender / chat identifiers (`from`, `peer`, `peer_id`, `chat_id`): a string or an integer, kept as a string. */
const PartyIdSchema = z.union([z.string().min(1), z.number().int()]).transform(String);

const IncomingSchema = z
  .looseObject({
    /** The event name: `messages.incoming`. */
    event: z.literal('messages.incoming'),
    tenant: TenantSchema,
    provider: ProviderSchema.optional(),
    channel: ChannelSchema,
    message_id: IdSchema,
    from: PartyIdSchema.optional(),
    from_jid: z.string().min(1).optional(),
    peer: PartyIdSchema.optional(),
    peer_id: PartyIdSchema.optional(),
    telegram_user_id: z
      .union([z.string().regex(/^\d+$/), z.number().int()])
      .transform(String)
      .optional(),
    username: z.string().min(1).optional(),
    chat_id: PartyIdSchema.optional(),
    text: z.string().optional(),
    ts: TimestampSchema,
    media: z.array(InboundMediaSchema).optional(),
    attachments: z.array(InboundMediaSchema).optional(),
    meta: z.looseObject({ reply_to: IdSchema.optional() }).optional(),
  })
  .refine(
    (m) => (m.text !== undefined && m.text.trim() !== '') || (m.media?.length ?? 0) + (m.attachments?.length ?? 0) > 0,
    { message: 'at least one of text or media/attachments is required', path: ['text'] },
  )
  .refine((m) => m.channel !== 'whatsapp' || m.from !== undefined || m.from_jid !== undefined, {
    message: 'whatsapp messages need from or from_jid',
    path: ['from'],
  });

/** Fields shared by the session-state events (`qr`, `ready`): they may omit channel and ts. */
const stateEventFields = <E extends 'qr' | 'ready'>(event: E) => ({
  /** The event name: `qr` or `ready`. */
  event: z.literal(event),
  tenant: TenantSchema,
  provider: ProviderSchema.optional(),
  channel: ChannelSchema.optional(),
  ts: TimestampSchema.optional(),
});

const QrSchema = z.looseObject({
  ...stateEventFields('qr'),
  qr_id: IdSchema,
  svg: z.string().trim().min(1),
});

/** Stored as-is in webhook_events: only the known fields are kept (a provider's extras, `constructor`… dropped). */
const ReadySchema = z.object({
  ...stateEventFields('ready'),
  state: z.string().max(64).optional(),
});

/** Delivery states a `messages.status` event reports. */
export const DeliveryStatusSchema = z.enum(['sent', 'delivered', 'read', 'failed']);
/** A delivery state: `sent`, `delivered`, `read` or `failed`. */
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

const StatusSchema = z.looseObject({
  /** The event name: `messages.status`. */
  event: z.literal('messages.status'),
  tenant: TenantSchema,
  provider: ProviderSchema.optional(),
  channel: ChannelSchema,
  message_id: IdSchema,
  status: DeliveryStatusSchema,
  ts: TimestampSchema,
  error: z.string().optional(),
});

/** Inbound event posted by a provider to POST /webhook. `ts` is always normalised to integer epoch seconds. */
export const MessageInSchema = z.discriminatedUnion('event', [IncomingSchema, QrSchema, ReadySchema, StatusSchema]);
/** A validated inbound event (output of MessageInSchema), discriminated by `event`. */
export type MessageIn = z.infer<typeof MessageInSchema>;
/** What a provider may post before validation (input of MessageInSchema). */
export type MessageInInput = z.input<typeof MessageInSchema>;
/** An inbound chat message (`messages.incoming`): text and/or media from a sender. */
export interface IncomingMessage extends Extract<MessageIn, Record<'event', 'messages.incoming'>> {
  /** The event name: `messages.incoming`. */
  event: 'messages.incoming';
}
/** A login QR code to show the user (`qr`): `qr_id` and the SVG. */
export interface QrEvent extends Extract<MessageIn, Record<'event', 'qr'>> {
  /** The event name: `qr`. */
  event: 'qr';
}
/** The provider session is logged in (`ready`). */
export interface ReadyEvent extends Extract<MessageIn, Record<'event', 'ready'>> {
  /** The event name: `ready`. */
  event: 'ready';
}
/** Delivery state of a message sent earlier (`messages.status`). */
export interface DeliveryStatusEvent extends Extract<MessageIn, Record<'event', 'messages.status'>> {
  /** The event name: `messages.status`. */
  event: 'messages.status';
}
/** Every `event` value a MessageIn may carry. */
export const MESSAGE_IN_EVENTS = ['messages.incoming', 'qr', 'ready', 'messages.status'] as const;
/** One of MESSAGE_IN_EVENTS. */
export type MessageInEvent = (typeof MESSAGE_IN_EVENTS)[number];

/** Normalised worker answer: `{ok:true}` or `{ok:false,error}`. */
export const WorkerResultSchema = z.union([
  z.looseObject({ ok: z.literal(true) }),
  z.looseObject({ ok: z.literal(false), error: z.string() }),
]);
/** A worker's answer to a send (see toWorkerResult); extra fields such as `message_id` or `retryable` pass through. */
export type WorkerResult =
  | {
      /** The message was accepted. */
      ok: true;
      [key: string]: unknown;
    }
  | {
      /** The message was refused. */
      ok: false;
      /** Stable error code (ErrorCodes or the upstream's own). */
      error: string;
      [key: string]: unknown;
    };

/** JSON Schema (draft 2020-12) of what senders may post; generated from the zod schemas. */
export function transportMessageJsonSchema(): Record<string, unknown> {
  return withId(z.toJSONSchema(TransportMessageSchema, { io: 'input', unrepresentable: 'any' }), 'transport-message');
}

/** JSON Schema (draft 2020-12) of what providers may post to the webhook. */
export function messageInJsonSchema(): Record<string, unknown> {
  return withId(z.toJSONSchema(MessageInSchema, { io: 'input', unrepresentable: 'any' }), 'message-in');
}

function withId(schema: Record<string, unknown>, name: string): Record<string, unknown> {
  return { $id: `https://callbridge.dev/schemas/${SPECIFICATION_VERSION}/${name}.json`, ...schema };
}
