import type { Channel, IncomingMessage, ResolvedTarget } from '@callbridge/messenger-contract';
import { findPhoneNumbersInText } from 'libphonenumber-js/max';

/**
 * Who wrote, as the seed's `resolve_or_create_contact` looks people up: WhatsApp phone (international digits),
 * Avito user id / login, Telegram user id (plus the username, which Telegram lets a user change).
 */
export interface ContactIdentifiers {
  whatsapp_phone?: string;
  avito_user_id?: string;
  avito_login?: string;
  telegram_user_id?: string;
  telegram_username?: string;
}

/**
 * The identifiers a contact is found by (each unique per tenant among live contacts). The Telegram username is
 * kept but never matched on: Telegram lets it move to another person.
 */
export const IDENTIFIER_COLUMNS = [
  'whatsapp_phone',
  'avito_user_id',
  'avito_login',
  'telegram_user_id',
] as const satisfies readonly (keyof ContactIdentifiers)[];

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;

/**
 * A phone number the person wrote in the text (e.g. "my WhatsApp is 8 999 123-45-67" in an Avito chat), as
 * international digits. Only mobile numbers count, with Russia as the default country (the seed's market).
 */
export function revealedPhone(text: string | undefined): string | undefined {
  if (text === undefined || text.length > 4096) return undefined;
  for (const found of findPhoneNumbersInText(text, 'RU')) {
    const type = found.number.getType();
    if (type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE') return found.number.number.slice(1);
  }
  return undefined;
}

/** The identifiers an inbound message carries, including a phone revealed in its text or an explicit `phone` field. */
export function identifiersOf(message: IncomingMessage): ContactIdentifiers {
  const raw = message as IncomingMessage & Record<string, unknown>;
  const ids: ContactIdentifiers = {};
  const phone = revealedPhone(str(raw.phone) ?? '') ?? revealedPhone(message.text);
  switch (message.channel) {
    case 'whatsapp':
      // The contract normalised `from` to international digits when the sender is a phone (not a LID).
      if (message.from !== undefined && /^\d{10,15}$/.test(message.from)) ids.whatsapp_phone = message.from;
      break;
    case 'telegram': {
      const id = message.telegram_user_id ?? message.peer_id ?? message.peer;
      if (id !== undefined && /^\d+$/.test(id)) ids.telegram_user_id = id;
      if (message.username !== undefined) ids.telegram_username = message.username.replace(/^@/, '').toLowerCase();
      break;
    }
    case 'avito': {
      if (message.from !== undefined) ids.avito_user_id = message.from;
      const login = str(raw.author_login) ?? str(raw.login);
      if (login !== undefined) ids.avito_login = login.toLowerCase();
      break;
    }
  }
  if (ids.whatsapp_phone === undefined && phone !== undefined) ids.whatsapp_phone = phone;
  return ids;
}

/** The address replies go to on the message's channel (`lead_contacts.peer`): phone digits or JID, chat id, peer. */
export function peerOf(message: IncomingMessage): string | undefined {
  switch (message.channel) {
    case 'whatsapp':
      return message.from ?? message.from_jid?.toLowerCase();
    case 'telegram':
      return message.peer ?? message.telegram_user_id ?? message.username?.toLowerCase();
    case 'avito':
      return message.chat_id ?? message.peer;
  }
}

/** How a `/send` recipient is looked up: the lead_contacts peer of the channel, or a contact identifier. */
export type LeadLookup =
  | { channel: Channel; peer: string }
  | { channel: Channel; identifier: keyof ContactIdentifiers; value: string };

/** The lookups of a resolved `/send` target, most specific first; undefined for Telegram "me" (no lead needed). */
export function lookupsOf(target: ResolvedTarget): LeadLookup[] | undefined {
  switch (target.channel) {
    case 'whatsapp': {
      const a = target.address;
      if (a.kind !== 'phone') return [{ channel: 'whatsapp', peer: a.jid.toLowerCase() }];
      return [
        { channel: 'whatsapp', peer: a.digits },
        { channel: 'whatsapp', identifier: 'whatsapp_phone', value: a.digits },
      ];
    }
    case 'telegram': {
      const t = target.target;
      if (t.kind === 'me') return undefined;
      if (t.kind === 'username') {
        const name = t.username.toLowerCase();
        return [
          { channel: 'telegram', peer: name },
          { channel: 'telegram', identifier: 'telegram_username', value: name },
        ];
      }
      return [
        { channel: 'telegram', peer: t.id },
        { channel: 'telegram', identifier: 'telegram_user_id', value: t.id },
      ];
    }
    case 'avito': {
      // `user:<id>` addresses the Avito user (the adapter finds the chat); anything else is a chat id.
      const user = /^user:(.+)$/.exec(target.chatId)?.[1];
      return user === undefined
        ? [{ channel: 'avito', peer: target.chatId }]
        : [{ channel: 'avito', identifier: 'avito_user_id', value: user }];
    }
  }
}
