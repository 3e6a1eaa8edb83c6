import {
  type CallDirection,
  deriveDirection,
  deriveManagerCode,
  derivePhone,
  durationSeconds,
  extensionFromToken,
  isAnswered,
  splitExtensions,
} from '../events/mapping.js';
import { isAnonymousNumber, toE164 } from '../events/phone-number.js';
import type { TelephonyEvent } from '../events/schema.js';
import { toWallClock } from '../events/timestamps.js';
import { convertWallClock } from './zoned-time.js';

/** `customer`: a real call with a customer; `internal`: extension to extension; `crm_leg`: our click-to-call's first leg. */
export type CallKind = 'customer' | 'internal' | 'crm_leg';

/** What the RetailCRM mapping needs to know about one event, read once. */
export interface CallView {
  /** The PBX's call id (`UniqueId`). */
  uniqueId: string;
  /** What sort of call it is; decides whether RetailCRM hears of it. */
  kind: CallKind;
  /** Who called whom. */
  direction: CallDirection;
  /** E.164 for a customer; the other extension for an internal call; `anonymous` for a hidden caller. */
  phone: string;
  /** A customer call whose caller hid the number (`phone` is then `anonymous`). */
  anonymous: boolean;
  /** The manager of the call (who answered / who dialled). */
  managerCode?: string;
  /** Every extension of `Extensions` (a dial's ring group), channel names reduced. */
  extensions: string[];
  /** `Extensions` items that are not an extension (logged, not silently dropped). */
  unknownExtensions: string[];
  /** `Y-m-d H:i:s` on the account's clock (`accountTimeZone`), else on the PBX clock. */
  start?: string;
  /** When the call ended, same clock as `start`. */
  end?: string;
  /** Whole seconds from `StartTime` to `EndTime`, never negative; absent without both. */
  duration?: number;
  /** `CallStatus` 2: the call was answered. */
  answered: boolean;
  /** The recording's URL from the payload or the envelope, under any name the PBX uses. */
  recordUrl?: string;
}

/** The phone RetailCRM gets for a caller who hid the number: the record says so instead of a fake number. */
export const ANONYMOUS_PHONE = 'anonymous';

const recordingOf = (event: TelephonyEvent): string | undefined => {
  const p = event.payload;
  const envelope = event as { record_url?: string | null; recording_url?: string | null };
  const url =
    p.record_url ?? p.RecordUrl ?? p.RecordingUrl ?? p.recording_url ?? envelope.record_url ?? envelope.recording_url;
  return url?.trim() || undefined;
};

/**
 * Reads one event the way the original did, plus what it learned later: CRM-initiated legs (`ExternalInitiated`
 * or our `CallbridgeOriginate` on an internal leg or without a customer number) and internal calls are told apart
 * from customer calls; numbers become E.164 in `defaultCountry`; stamps become PBX wall-clock time in `timeZone`,
 * then, given the zone RetailCRM reads dates in (`accountTimeZone`), that account's wall-clock time.
 */
export function viewCall(
  event: TelephonyEvent,
  options: { defaultCountry?: string | undefined; timeZone: string; accountTimeZone?: string | undefined },
): CallView {
  const p = event.payload;
  const raw = derivePhone(p);
  const anonymous = isAnonymousNumber(raw);
  const phoneExtension = anonymous ? undefined : extensionFromToken(raw);
  const marked = p.ExternalInitiated === true || p.CallbridgeOriginate === true;
  let kind: CallKind = 'customer';
  if (marked && (p.CallType === 2 || anonymous || phoneExtension)) kind = 'crm_leg';
  else if (phoneExtension || (p.CallType === 2 && anonymous)) kind = 'internal';
  const { extensions, unknown } = splitExtensions(p.Extensions);
  const onAccountClock = (raw: string | null | undefined) => {
    const wall = toWallClock(raw, options.timeZone);
    return wall && convertWallClock(wall, options.timeZone, options.accountTimeZone);
  };
  const start = onAccountClock(p.StartTime);
  const end = onAccountClock(p.EndTime);
  const duration = durationSeconds(start, end);
  let phone = ANONYMOUS_PHONE;
  if (phoneExtension) phone = phoneExtension;
  else if (raw && !anonymous) phone = toE164(raw, options.defaultCountry);
  const managerCode = deriveManagerCode(p);
  const recordUrl = recordingOf(event);
  return {
    uniqueId: p.UniqueId,
    kind,
    direction: kind === 'internal' ? 'in' : deriveDirection(p),
    phone,
    anonymous: anonymous && kind === 'customer',
    ...(managerCode ? { managerCode } : {}),
    extensions,
    unknownExtensions: unknown,
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(duration !== undefined ? { duration } : {}),
    answered: isAnswered(p.CallStatus),
    ...(recordUrl ? { recordUrl } : {}),
  };
}
