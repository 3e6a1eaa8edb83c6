import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { InvalidTargetError } from './errors.js';

/** A resolved WhatsApp address. Only `phone` has a phone number; LIDs and groups are opaque ids. */
export type WhatsAppAddress =
  | {
      /** A phone number. */
      kind: 'phone';
      /** International digits without `+` (`79991234567`). */
      digits: string;
      /** The number as `+` and digits. */
      e164: string;
      /** The chat JID, `digits@c.us`. */
      jid: string;
    }
  | {
      /** An opaque WhatsApp id (`…@lid`) that hides the phone number. */
      kind: 'lid';
      /** The JID as received. */
      jid: string;
    }
  | {
      /** A group chat (`…@g.us`). */
      kind: 'group';
      /** The JID as received. */
      jid: string;
    };

/** Options of normaliseWhatsAppAddress. */
export interface NormaliseWhatsAppOptions {
  /**
   * `human` (default): typed by a person or a CRM, so a national Russian `8XXXXXXXXXX` becomes `7XXXXXXXXXX`
   * (validated with libphonenumber-js, RU default). `wire`: sent by WhatsApp itself, digits are already international.
   */
  source?: 'human' | 'wire';
}

const FORMATTING = /[\s\-().\u00a0]/g;

/**
 * Normalises a WhatsApp recipient/sender: `+E164`, 10–15 digits, `digits@c.us`, `digits@s.whatsapp.net` (-> `@c.us`),
 * `...@lid` and `...@g.us` (kept as-is). Throws InvalidTargetError otherwise.
 */
export function normaliseWhatsAppAddress(
  input: string | number,
  options: NormaliseWhatsAppOptions = {},
): WhatsAppAddress {
  const raw = String(input).trim();
  if (raw === '') throw new InvalidTargetError(raw, 'empty WhatsApp address');
  const at = raw.lastIndexOf('@');
  if (at >= 0) return fromJid(raw, raw.slice(0, at), raw.slice(at + 1).toLowerCase());

  const compact = raw.replace(FORMATTING, '');
  let digits: string;
  if (compact.startsWith('+')) digits = compact.slice(1);
  else if (compact.startsWith('00')) digits = compact.slice(2);
  else digits = compact;
  if (!/^\d+$/.test(digits)) throw new InvalidTargetError(raw, 'WhatsApp number must contain digits only');

  const international = compact.startsWith('+') || compact.startsWith('00');
  if (!international && (options.source ?? 'human') === 'human') digits = fromRussianNational(digits);
  return phone(raw, digits);
}

/** Canonical comparable key: phone digits for numbers, the lower-cased JID otherwise. */
export function whatsAppAddressKey(address: WhatsAppAddress): string {
  return address.kind === 'phone' ? address.digits : address.jid.toLowerCase();
}

function fromJid(raw: string, local: string, domain: string): WhatsAppAddress {
  if (domain === 'lid') {
    if (local === '') throw new InvalidTargetError(raw, 'empty LID');
    return { kind: 'lid', jid: raw };
  }
  if (domain === 'g.us') {
    if (local === '') throw new InvalidTargetError(raw, 'empty group id');
    return { kind: 'group', jid: raw };
  }
  if (domain === 'c.us' || domain === 's.whatsapp.net') {
    // Multi-device JIDs carry a device suffix (`79991234567:12@s.whatsapp.net`); the chat is the number.
    const user = local.split(':')[0] ?? '';
    if (!/^\d+$/.test(user)) throw new InvalidTargetError(raw, 'JID user part must be digits');
    return phone(raw, user);
  }
  throw new InvalidTargetError(raw, `unsupported JID domain ${domain}`);
}

function fromRussianNational(digits: string): string {
  if (digits.length !== 11 || !digits.startsWith('8')) return digits;
  const parsed = parsePhoneNumberFromString(digits, 'RU');
  // Only a number that is valid in Russia is rewritten; e.g. 81312345678 (a Japanese number) stays as typed.
  if (parsed?.isValid() && parsed.countryCallingCode === '7') return parsed.number.slice(1);
  return digits;
}

function phone(raw: string, digits: string): WhatsAppAddress {
  if (digits.length < 10 || digits.length > 15) throw new InvalidTargetError(raw, 'phone must have 10–15 digits');
  if (digits.startsWith('0')) throw new InvalidTargetError(raw, 'international number cannot start with 0');
  return { kind: 'phone', digits, e164: `+${digits}`, jid: `${digits}@c.us` };
}
