import type { SettingsResponse } from '@callbridge/retailcrm-client';
import { describeError } from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import { isTimeZone } from '../time-zone.js';

/** The account a zone belongs to: its URL and the key that reads its settings. */
export interface AccountRef {
  domain: string;
  api_key: string;
}

export interface AccountTimeZonesOptions {
  /** `GET /api/v5/settings` of one account (the server passes its RetailCRM client's `settings.get`). */
  readSettings(account: AccountRef): Promise<SettingsResponse>;
  logger: Pick<Logger, 'warn'>;
  clock?: { now(): number };
  /** How long an answer is used before it is read again, in the background (1 h). */
  ttlMs?: number;
  /** After a failed read, the next one is tried this much later (1 min); meanwhile the last known zone is used. */
  retryAfterMs?: number;
  /**
   * How long the very first read of an account may hold a delivery (1 s), so that its first dated call is written
   * on the right clock; later reads never wait. 0: never wait.
   */
  firstReadWaitMs?: number;
}

/** The RetailCRM account's time zone (`settings.timezone`), per account, cached. */
export interface AccountTimeZones {
  /**
   * The account's IANA zone, or undefined while it is unknown (no answer yet, the read failed, the account has no
   * valid `timezone` setting): the caller then keeps its configured zone. Never throws. A stale answer is returned
   * while a fresh one is read in the background. `wait: false` never waits, even for an account's first read.
   */
  get(enterpriseNumber: string, account: AccountRef, options?: { wait?: boolean }): Promise<string | undefined>;
}

interface Entry {
  apiKey: string;
  zone?: string;
  /** Until when the entry is not read again. */
  freshUntil: number;
  /** Whether a read has finished (either way): only the first read is waited for. */
  settled: boolean;
  /** Whether the last read failed; the warning is logged on the first failure of a streak only. */
  failing: boolean;
  reading?: Promise<void>;
}

/**
 * Reads each RetailCRM account's time zone once an hour and remembers it, so call dates are written on the clock
 * RetailCRM reads them in. A failure never reaches a delivery: it is logged once (until a read succeeds again) and
 * the caller falls back to the configured zone. One entry per account URL; a new key reads again.
 */
export function createAccountTimeZones(options: AccountTimeZonesOptions): AccountTimeZones {
  const clock = options.clock ?? { now: () => Date.now() };
  const ttlMs = options.ttlMs ?? 3_600_000;
  const retryAfterMs = options.retryAfterMs ?? 60_000;
  const firstReadWaitMs = options.firstReadWaitMs ?? 1000;
  const entries = new Map<string, Entry>();

  const read = (enterpriseNumber: string, account: AccountRef, entry: Entry) => {
    entry.reading = (async () => {
      try {
        const answer = await options.readSettings(account);
        const zone = answer.settings.timezone?.value;
        if (!zone) throw new Error('the account has no timezone setting');
        if (!isTimeZone(zone)) throw new Error(`the account's timezone "${zone}" is not an IANA zone`);
        entry.zone = zone;
        entry.freshUntil = clock.now() + ttlMs;
        entry.failing = false;
      } catch (error) {
        entry.freshUntil = clock.now() + retryAfterMs;
        if (!entry.failing) {
          const { code, message } = describeError(error);
          options.logger.warn(
            { enterprise: enterpriseNumber, domain: account.domain, err: { code, message }, lastKnown: entry.zone },
            'cannot read the RetailCRM account time zone (GET /api/v5/settings); call dates use the last known zone, else the configured one (time_zone, RETAILCRM_TIME_ZONE). Check that the account answers this request with its key; retried every minute',
          );
        }
        entry.failing = true;
      } finally {
        entry.settled = true;
        entry.reading = undefined;
      }
    })();
    return entry.reading;
  };

  const waitAtMost = async (work: Promise<void>, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    });
    await Promise.race([work, elapsed]);
    clearTimeout(timer);
  };

  return {
    async get(enterpriseNumber, account, { wait = true } = {}) {
      let entry = entries.get(account.domain);
      if (entry?.apiKey !== account.api_key) {
        entry = { apiKey: account.api_key, freshUntil: 0, settled: false, failing: false };
        entries.set(account.domain, entry);
      }
      const reading =
        entry.reading ?? (clock.now() >= entry.freshUntil ? read(enterpriseNumber, account, entry) : undefined);
      if (reading && !entry.settled && wait && firstReadWaitMs > 0) await waitAtMost(reading, firstReadWaitMs);
      return entry.zone;
    },
  };
}
