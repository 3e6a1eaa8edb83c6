import type { z } from 'zod';
import { ErrorCodes, InvalidTargetError } from './errors.js';
import {
  type Channel,
  type InboundMedia,
  type IncomingMessage,
  type MessageIn,
  MessageInSchema,
  type TransportMessage,
  TransportMessageSchema,
} from './schemas.js';
import { fillTelegramPeer, resolveTelegramTarget, type TelegramTarget } from './telegram-target.js';
import { normaliseWhatsAppAddress, type WhatsAppAddress } from './whatsapp-address.js';

/** A TransportMessage's recipient, resolved for its channel. */
export type ResolvedTarget =
  | {
      /** WhatsApp recipient. */
      channel: 'whatsapp';
      /** Normalised phone number or JID. */
      address: WhatsAppAddress;
    }
  | {
      /** Telegram recipient. */
      channel: 'telegram';
      /** Resolved peer id, user id, username or "me". */
      target: TelegramTarget;
    }
  | {
      /** Avito recipient. */
      channel: 'avito';
      /** Avito chat id, or `user:<id>` resolved to a chat at send time. */
      chatId: string;
    };

/** One contract violation of a body. */
export interface ContractIssue {
  /** Dotted path of the offending field (`''` for the body itself). */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/** Outcome of validating a body: the normalised value, or the 422 answer with its issues. */
export type ParseResult<T> =
  | {
      /** The body is valid. */
      ok: true;
      /** The validated, normalised value. */
      value: T;
    }
  | {
      /** The body is invalid. */
      ok: false;
      /** HTTP status to answer. */
      status: 422;
      /** Code to answer: `invalid_qr` for a bad `qr` event, `invalid_payload` otherwise. */
      error: typeof ErrorCodes.invalidPayload | typeof ErrorCodes.invalidQr;
      /** What is wrong, one entry per violated field. */
      issues: ContractIssue[];
    };

/** Validates a POST /send body and resolves its recipient. `to` is treated as human input (8XXX -> 7XXX). */
export function parseTransportMessage(body: unknown): ParseResult<{
  /** The validated message. */
  message: TransportMessage;
  /** Its recipient, resolved for the channel. */
  target: ResolvedTarget;
}> {
  const parsed = TransportMessageSchema.safeParse(body);
  if (!parsed.success) return invalid(ErrorCodes.invalidPayload, parsed.error);
  return withTargetIssue('to', () => ({
    message: parsed.data,
    target: resolveTarget(parsed.data.channel, parsed.data.to),
  }));
}

/** Resolves `to` for a channel. Throws InvalidTargetError. */
export function resolveTarget(channel: Channel, to: string | number): ResolvedTarget {
  switch (channel) {
    case 'whatsapp':
      return { channel, address: normaliseWhatsAppAddress(to, { source: 'human' }) };
    case 'telegram':
      return { channel, target: resolveTelegramTarget({ to }) };
    case 'avito': {
      const chatId = String(to).trim();
      if (chatId === '') throw new InvalidTargetError(chatId, 'empty Avito chat id');
      return { channel, chatId };
    }
  }
}

/**
 * Validates and normalises an inbound webhook event: `ts` to epoch seconds, `provider` defaulted from `channel`,
 * `attachments` merged into `media`, WhatsApp `from` to international digits and `from_jid` to `digits@c.us`
 * (LID/group JIDs kept as-is), Telegram `peer` filled from peer_id / telegram_user_id.
 * A `qr` event without SVG answers `invalid_qr`; anything else invalid answers `invalid_payload` (both 422).
 */
export function parseMessageIn(body: unknown): ParseResult<MessageIn> {
  const parsed = MessageInSchema.safeParse(body);
  if (!parsed.success) {
    const isQr = typeof body === 'object' && body !== null && (body as { event?: unknown }).event === 'qr';
    return invalid(isQr ? ErrorCodes.invalidQr : ErrorCodes.invalidPayload, parsed.error);
  }
  const event = parsed.data;
  if (event.event !== 'messages.incoming') {
    const provider = event.provider ?? event.channel;
    return { ok: true, value: provider === undefined ? event : { ...event, provider } };
  }
  return withTargetIssue('from', () => normaliseIncoming(event));
}

/** Runs an address normalisation; an InvalidTargetError becomes the 422 invalid_payload issue at `path`. */
function withTargetIssue<T>(path: string, work: () => T): ParseResult<T> {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    if (!(error instanceof InvalidTargetError)) throw error;
    return { ok: false, status: 422, error: ErrorCodes.invalidPayload, issues: [{ path, message: error.message }] };
  }
}

function normaliseIncoming(message: IncomingMessage): IncomingMessage {
  const media: InboundMedia[] = [...(message.media ?? []), ...(message.attachments ?? [])];
  const { attachments: _attachments, ...rest } = message;
  let out: IncomingMessage = { ...rest, provider: message.provider ?? message.channel };
  if (media.length > 0) out.media = media;
  else delete out.media;
  if (message.channel === 'whatsapp') out = { ...out, ...whatsappSender(message.from, message.from_jid) };
  if (message.channel === 'telegram') out = fillTelegramPeer(out);
  return out;
}

function whatsappSender(
  from: string | undefined,
  fromJid: string | undefined,
): { from?: string; from_jid?: string; peer?: string } {
  const jid = fromJid === undefined ? undefined : normaliseWhatsAppAddress(fromJid, { source: 'wire' });
  let phone: WhatsAppAddress | undefined;
  if (from !== undefined) {
    try {
      phone = normaliseWhatsAppAddress(from, { source: 'wire' });
    } catch (error) {
      // A broken `from` is tolerated when the JID identifies the sender.
      if (jid === undefined) throw error;
    }
  }
  const byPhone = jid?.kind === 'phone' ? jid : phone?.kind === 'phone' ? phone : undefined;
  const opaque =
    jid !== undefined && jid.kind !== 'phone' ? jid : phone !== undefined && phone.kind !== 'phone' ? phone : undefined;
  const out: { from?: string; from_jid?: string; peer?: string } = {};
  if (byPhone !== undefined) {
    out.from = byPhone.digits;
    out.peer = byPhone.digits;
  }
  if (jid !== undefined) out.from_jid = jid.jid;
  else if (byPhone !== undefined) out.from_jid = byPhone.jid;
  else if (opaque !== undefined) out.from_jid = opaque.jid;
  if (out.peer === undefined && opaque !== undefined) out.peer = opaque.jid;
  return out;
}

function invalid(
  error: typeof ErrorCodes.invalidPayload | typeof ErrorCodes.invalidQr,
  zodError: z.ZodError,
): { ok: false; status: 422; error: typeof error; issues: ContractIssue[] } {
  return {
    ok: false,
    status: 422,
    error,
    issues: zodError.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  };
}
