import type { EventType } from './schema.js';

/** Internal numbers (extensions) are 2–5 digits; anything else is an external phone. */
export function isInternalNumber(value: string | null | undefined): boolean {
  return typeof value === 'string' && /^\d{2,5}$/.test(value.trim());
}

// `SIP/150-0000001a`, `PJSIP/151-00000002`, `Local/152@from-internal-0000;1`, `IAX2/153-...`: the peer name is the
// extension. Anything after `-`, `@` or `;` is Asterisk's channel suffix.
const CHANNEL = /^[A-Za-z0-9]+\/([^-@;/]+)/;

/** The extension an `Extensions` item or a caller id names: `151`, or the peer of a channel name; else undefined. */
export function extensionFromToken(token: string | null | undefined): string | undefined {
  const trimmed = token?.trim();
  if (!trimmed) return undefined;
  const peer = CHANNEL.exec(trimmed)?.[1] ?? trimmed;
  return isInternalNumber(peer) ? peer : undefined;
}

/** `Extensions` items split into internal extensions (in order, no duplicates) and the items that are not one. */
export function splitExtensions(tokens: readonly string[] | null | undefined): {
  /** Internal extensions, channel names reduced to their peer, first occurrence order. */
  extensions: string[];
  /** Non-empty items that name no extension (trimmed), to be reported rather than dropped. */
  unknown: string[];
} {
  const extensions = new Set<string>();
  const unknown: string[] = [];
  for (const token of tokens ?? []) {
    if (!token.trim()) continue;
    const extension = extensionFromToken(token);
    if (extension) extensions.add(extension);
    else unknown.push(token.trim());
  }
  return { extensions: [...extensions], unknown };
}

/** The payload fields the mapping rules read (present on every event kind). */
export interface CallFields {
  /** 0 incoming, 1 outgoing, 2 internal; decides the direction when 0 or 1. */
  CallType?: number | null | undefined;
  /** The external party's number, when the dialplan sets it. */
  Phone?: string | null | undefined;
  /** Extensions (or channel names, ring groups split) the call rang or reached. */
  Extensions?: string[] | null | undefined;
  /** Caller ID number of the calling side. */
  CallerIDNum?: string | null | undefined;
  /** Number of the other side of the bridge, as Asterisk reports it. */
  ConnectedLineNum?: string | null | undefined;
}

/** Direction of a call seen from the company: `in` the customer called, `out` an extension called out. */
export type CallDirection = 'in' | 'out';

const nonEmpty = (value: string | null | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/** The external party: `Phone` || `CallerIDNum` || `ConnectedLineNum` (original rule). */
export function derivePhone(payload: CallFields): string | undefined {
  return nonEmpty(payload.Phone) ?? nonEmpty(payload.CallerIDNum) ?? nonEmpty(payload.ConnectedLineNum);
}

/**
 * CallType 0 -> in, 1 -> out. Otherwise (missing or 2): an internal caller dialling an external number is out,
 * an external caller reaching an internal extension is in, and anything else defaults to in.
 */
export function deriveDirection(payload: CallFields): CallDirection {
  if (payload.CallType === 0) return 'in';
  if (payload.CallType === 1) return 'out';
  const caller = nonEmpty(payload.CallerIDNum);
  const target = nonEmpty(payload.Phone) ?? nonEmpty(payload.ConnectedLineNum);
  if (caller && isInternalNumber(caller) && target && !isInternalNumber(target)) return 'out';
  const extensions = (payload.Extensions ?? []).map((e) => e.trim()).filter(Boolean);
  if (caller && !isInternalNumber(caller) && extensions.some(isInternalNumber)) return 'in';
  return 'in';
}

/**
 * Manager code: the first internal number in `CallerIDNum`, then `Extensions`, then `ConnectedLineNum` (channel
 * names such as `SIP/150-0000001a` count as their extension).
 */
export function deriveManagerCode(payload: CallFields): string | undefined {
  const candidates = [payload.CallerIDNum, ...(payload.Extensions ?? []), payload.ConnectedLineNum];
  for (const candidate of candidates) {
    const extension = extensionFromToken(candidate);
    if (extension) return extension;
  }
  return undefined;
}

/** Every internal number of `Extensions` (a dial's ring group, channel names reduced), in order, no duplicates. */
export function internalExtensions(extensions: readonly string[] | null | undefined): string[] {
  return splitExtensions(extensions).extensions;
}

/** Reverse of `user_extensions` (`{retailcrm_user_id: extension|null}`): extension -> user id. */
export function userIdByExtension(userExtensions: Record<string, string | null | undefined> | undefined) {
  const map = new Map<string, number>();
  for (const [userId, extension] of Object.entries(userExtensions ?? {})) {
    const id = Number(userId);
    if (!extension || !Number.isInteger(id)) continue;
    map.set(String(extension).trim(), id);
  }
  return map;
}

/** Seconds between two `YYYY-MM-DD HH:MM:SS` stamps (same clock, so the zone cancels out); never negative. */
export function durationSeconds(start: string | null | undefined, end: string | null | undefined): number | undefined {
  if (!start || !end) return undefined;
  const toMs = (value: string) => Date.parse(`${value.replace(' ', 'T')}Z`);
  const diff = (toMs(end) - toMs(start)) / 1000;
  return Number.isFinite(diff) ? Math.max(0, Math.round(diff)) : undefined;
}

/** `CallStatus` "2" means answered; anything else is not. */
export function isAnswered(callStatus: string | null | undefined): boolean {
  return String(callStatus ?? '').trim() === '2';
}

/** The idempotency key of an event: enterprise + UniqueId + event type. */
export function idempotencyKey(enterpriseNumber: string, uniqueId: string, eventType: EventType): string {
  return `${enterpriseNumber}|${uniqueId}|${eventType}`;
}
