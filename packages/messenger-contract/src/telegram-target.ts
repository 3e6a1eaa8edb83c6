import { InvalidTargetError } from './errors.js';

/** A resolved Telegram recipient (see resolveTelegramTarget for the precedence). */
export type TelegramTarget =
  | {
      /** A chat / peer id. */
      kind: 'peer_id';
      /** The id as decimal digits (may exceed 2^53, hence a string). */
      id: string;
    }
  | {
      /** A Telegram user id. */
      kind: 'telegram_user_id';
      /** The id as decimal digits. */
      id: string;
    }
  | {
      /** A public username. */
      kind: 'username';
      /** The username without `@`. */
      username: string;
    }
  | {
      /** The logged-in account itself (Saved Messages). */
      kind: 'me';
    };

/** Recipient fields of an outgoing message, in any of the seed's spellings. */
export interface TelegramTargetInput {
  /** Chat / peer id; wins over every other field. */
  peer_id?: string | number | null | undefined;
  /** Telegram user id; used when there is no peer_id. */
  telegram_user_id?: string | number | null | undefined;
  /** Username, with or without `@`; used when there is no id. */
  username?: string | null | undefined;
  /** TransportMessage.to: a numeric id, a username (with or without @) or "me". */
  to?: string | number | null | undefined;
}

const USERNAME = /^[A-Za-z][A-Za-z0-9_]{2,31}$/;
const NUMERIC_ID = /^-?\d{1,20}$/;

/**
 * Resolves the Telegram recipient in the seed's order: peer_id -> telegram_user_id -> username (no @) -> "me".
 * Explicit identifier fields win over `to`; "me" (Saved Messages) is used only when asked for, never as a silent default.
 */
export function resolveTelegramTarget(input: TelegramTargetInput): TelegramTarget {
  const peer = idOf(input.peer_id, 'peer_id');
  if (peer !== undefined) return { kind: 'peer_id', id: peer };
  const user = idOf(input.telegram_user_id, 'telegram_user_id');
  if (user !== undefined) return { kind: 'telegram_user_id', id: user };
  if (input.username !== undefined && input.username !== null && input.username.trim() !== '') {
    return { kind: 'username', username: usernameOf(input.username) };
  }
  const to = input.to;
  if (to === undefined || to === null || String(to).trim() === '') {
    throw new InvalidTargetError('', 'no Telegram recipient (peer_id, telegram_user_id, username or "me")');
  }
  const text = String(to).trim();
  if (text.toLowerCase() === 'me') return { kind: 'me' };
  if (NUMERIC_ID.test(text)) return { kind: 'peer_id', id: String(BigInt(text)) };
  return { kind: 'username', username: usernameOf(text) };
}

/** The value sent to the Telegram worker: numeric ids as numbers when safe, otherwise strings. */
export function telegramTargetToWire(target: TelegramTarget): string | number {
  switch (target.kind) {
    case 'me':
      return 'me';
    case 'username':
      return target.username;
    default: {
      const n = Number(target.id);
      return Number.isSafeInteger(n) ? n : target.id;
    }
  }
}

/** Comparable key for whitelists: ids as digits, usernames lower-cased, "me". */
export function telegramTargetKey(target: TelegramTarget): string {
  if (target.kind === 'me') return 'me';
  if (target.kind === 'username') return target.username.toLowerCase();
  return target.id;
}

/** Inbound rule of the seed: when `peer` is absent, it is filled from peer_id, then telegram_user_id. */
export function fillTelegramPeer<
  T extends {
    /** The sender's peer, as the event gives it. */
    peer?: string | undefined;
    /** Chat / peer id; first fallback for `peer`. */
    peer_id?: string | undefined;
    /** Telegram user id; second fallback for `peer`. */
    telegram_user_id?: string | undefined;
  },
>(message: T): T {
  if (message.peer !== undefined && message.peer !== '') return message;
  const peer = message.peer_id ?? message.telegram_user_id;
  return peer === undefined ? message : { ...message, peer };
}

function idOf(value: string | number | null | undefined, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  if (!NUMERIC_ID.test(text)) throw new InvalidTargetError(text, `${field} must be an integer`);
  return String(BigInt(text));
}

function usernameOf(value: string): string {
  const name = value.trim().replace(/^@/, '');
  if (!USERNAME.test(name)) throw new InvalidTargetError(name, 'invalid Telegram username');
  return name;
}
