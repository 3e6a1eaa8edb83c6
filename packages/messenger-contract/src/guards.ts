import { ErrorCodes, InvalidTargetError } from './errors.js';
import type { ResolvedTarget } from './normalise.js';
import { telegramTargetKey } from './telegram-target.js';
import { normaliseWhatsAppAddress, whatsAppAddressKey } from './whatsapp-address.js';

/** Parsed OUTBOX_WHITELIST. Build once with parseWhitelist. */
export interface Whitelist {
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

export interface OutboxGuardConfig {
  /** OUTBOX_ENABLED. */
  enabled: boolean;
  whitelist: Whitelist;
}

export interface OutboxGuardInput {
  target: ResolvedTarget;
  /**
   * Result of the lead lookup: `found`, `missing`, `unknown` (database unavailable: degraded mode) or undefined
   * (not checked here, e.g. at the HTTP edge).
   */
  lead?: 'found' | 'missing' | 'unknown' | undefined;
}

export interface GuardWarning {
  code: typeof ErrorCodes.noLead;
  message: string;
}

export type OutboxGuardDecision =
  | { allowed: true; warnings: GuardWarning[] }
  | {
      allowed: false;
      code: typeof ErrorCodes.outboxDisabled | typeof ErrorCodes.notWhitelisted | typeof ErrorCodes.noLead;
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
