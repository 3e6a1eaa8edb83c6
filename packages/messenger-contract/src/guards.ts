import { ErrorCodes, InvalidTargetError } from './errors.js';
import type { ResolvedTarget } from './normalise.js';
import { telegramTargetKey } from './telegram-target.js';
import { normaliseWhatsAppAddress, whatsAppAddressKey } from './whatsapp-address.js';

/** Parsed OUTBOX_WHITELIST. Build once with parseWhitelist. */
export interface Whitelist {
  /** The list holds `*`: every recipient is allowed. */
  readonly allowAll: boolean;
  /** Canonical keys: numeric ids / phone digits, lower-cased usernames and JIDs, raw Avito chat ids. */
  readonly keys: ReadonlySet<string>;
}

/**
 * Parses OUTBOX_WHITELIST (separated by spaces or commas): `*`, Telegram ids, usernames (with or without @),
 * `+E164`, phone digits, JIDs, Avito chat ids. Empty means deny all.
 */
export function parseWhitelist(value: string | readonly string[] | undefined): Whitelist {
  const entries = (typeof value === 'string' ? value.split(/[\s,;]+/) : (value ?? []))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const keys = new Set<string>();
  let allowAll = false;
  for (const entry of entries) {
    if (entry === '*') {
      allowAll = true;
      continue;
    }
    keys.add(entry);
    keys.add(entry.toLowerCase().replace(/^@/, ''));
    if (/^-?\d+$/.test(entry)) keys.add(String(BigInt(entry)));
    // A negative number is a Telegram chat id, never a phone (the dash must not be read as formatting).
    if (entry.startsWith('-')) continue;
    try {
      // Phones and JIDs: compare canonically, so +7999…, 7999…, 8999… and 7999…@c.us all match.
      keys.add(whatsAppAddressKey(normaliseWhatsAppAddress(entry, { source: 'human' })));
    } catch (error) {
      if (!(error instanceof InvalidTargetError)) throw error;
    }
  }
  return { allowAll, keys };
}

/** Whether the resolved recipient is on the whitelist. */
export function isWhitelisted(whitelist: Whitelist, target: ResolvedTarget): boolean {
  if (whitelist.allowAll) return true;
  switch (target.channel) {
    case 'whatsapp':
      return whitelist.keys.has(whatsAppAddressKey(target.address));
    case 'telegram':
      return whitelist.keys.has(telegramTargetKey(target.target));
    case 'avito':
      return whitelist.keys.has(target.chatId);
  }
}

/** Server settings the outbox guards read. */
export interface OutboxGuardConfig {
  /** OUTBOX_ENABLED. */
  enabled: boolean;
  /** OUTBOX_WHITELIST, parsed with parseWhitelist. */
  whitelist: Whitelist;
}

/** The send being checked. */
export interface OutboxGuardInput {
  /** The resolved recipient, compared with the whitelist. */
  target: ResolvedTarget;
  /**
   * Result of the lead lookup: `found`, `missing`, `unknown` (database unavailable: degraded mode) or undefined
   * (not checked here, e.g. at the HTTP edge).
   */
  lead?: 'found' | 'missing' | 'unknown' | undefined;
}

/** A send allowed in degraded mode: the lead could not be checked. */
export interface GuardWarning {
  /** Always `err:no_lead`. */
  code: typeof ErrorCodes.noLead;
  /** Why the send went ahead unchecked, for logs. */
  message: string;
}

/** Verdict of checkOutboxGuards: send (maybe with warnings) or refuse with the seed's code and status. */
export type OutboxGuardDecision =
  | {
      /** The send may go ahead. */
      allowed: true;
      /** Checks that could not run (empty when all passed). */
      warnings: GuardWarning[];
    }
  | {
      /** The send is refused; nothing is delivered. */
      allowed: false;
      /** Which guard refused, answered as `{ok:false,error:code}`. */
      code: typeof ErrorCodes.outboxDisabled | typeof ErrorCodes.notWhitelisted | typeof ErrorCodes.noLead;
      /** HTTP status to answer: 403 for outbox disabled / not whitelisted, 404 for no lead. */
      httpStatus: 403 | 404;
      /** Log reason as the seed words it (`whitelist_miss` for a whitelist rejection). */
      reason: string;
    };

/**
 * The seed's guard order: outbox disabled (403 outbox_disabled) -> whitelist (403 not_whitelisted, log reason
 * whitelist_miss) -> lead (err:no_lead, no delivery attempt; only a warning when the lead store is unavailable).
 */
export function checkOutboxGuards(config: OutboxGuardConfig, input: OutboxGuardInput): OutboxGuardDecision {
  if (!config.enabled) {
    return { allowed: false, code: ErrorCodes.outboxDisabled, httpStatus: 403, reason: ErrorCodes.outboxDisabled };
  }
  if (!isWhitelisted(config.whitelist, input.target)) {
    return { allowed: false, code: ErrorCodes.notWhitelisted, httpStatus: 403, reason: 'whitelist_miss' };
  }
  if (input.lead === 'missing') {
    return { allowed: false, code: ErrorCodes.noLead, httpStatus: 404, reason: ErrorCodes.noLead };
  }
  if (input.lead === 'unknown') {
    return {
      allowed: true,
      warnings: [{ code: ErrorCodes.noLead, message: 'lead store unavailable: sending in degraded mode' }],
    };
  }
  return { allowed: true, warnings: [] };
}
