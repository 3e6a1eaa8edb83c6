import type { Clock } from '@callbridge/phone-protocol';
import {
  type CallRecord,
  formatRetailCrmDate,
  type RetailCrmEnterpriseConfig,
  toCallRecord,
} from '@callbridge/telephony-events';
import type { Logger } from 'pino';
import type { RetailCrmEgress } from '../egress/retailcrm-egress.js';
import type { Storage } from '../storage/types.js';
import type { DueUpload, PhoneCallStore } from './calls.js';
import { toCallResult, toCallType } from './result-mapping.js';

export const PHONE_RESULTS_QUEUE = 'phone-call-results';

export interface UploaderOptions {
  calls: PhoneCallStore;
  /** Where a result that never uploads ends up. */
  deadLetters: Pick<Storage, 'insertDeadLetter'>;
  /** The server's one way to RetailCRM (same policies, breaker and logs as PBX events). */
  egress: Pick<RetailCrmEgress, 'config' | 'uploadCalls'>;
  clock: Clock;
  logger: Logger;
  /** Delay before attempt n+1 (last value repeats); default 1 s, 5 s, 30 s, 1 min, 5 min. */
  retryDelaysMs?: readonly number[];
  /** After this many failed attempts the result goes to dead_letters (default 10). */
  maxAttempts?: number;
  /** How often due uploads are looked for (default 5 s); also picks up other instances' crashed leases. */
  sweepIntervalMs?: number;
  /** A claimed upload not finished within this time may be taken by another instance (default 60 s). */
  leaseMs?: number;
  /** Time zone `date` is written in when the account's own zone is unknown (RETAILCRM_TIME_ZONE; default UTC). */
  timeZone?: string;
}

const NO_ACCOUNT: Pick<RetailCrmEnterpriseConfig, 'user_extensions'> = { user_extensions: {} };

/**
 * The RetailCRM calls-upload record of a click-to-call result, through the same builder and date format as PBX
 * hangups: outgoing unless the device reports an incoming (manual) call, dated when it started (else when the result
 * arrived) on the account's clock, the command id as `externalId`.
 */
export function phoneCallRecord(
  call: DueUpload,
  config: Pick<RetailCrmEnterpriseConfig, 'user_extensions' | 'site' | 'account_time_zone'> = NO_ACCOUNT,
  timeZone = 'UTC',
): CallRecord {
  // RetailCRM reads `date` on the account's clock; `timeZone` stands in while that is unknown.
  const zone = config.account_time_zone ?? timeZone;
  const started = call.result.call_started_at ? Date.parse(call.result.call_started_at) : Number.NaN;
  const userId = call.retailcrmUserId !== null ? Number(call.retailcrmUserId) : Number.NaN;
  return toCallRecord(
    {
      date: formatRetailCrmDate(Number.isFinite(started) ? started : call.resultAt, zone),
      direction: toCallType(call.result.direction),
      phone: call.phone,
      code: call.extension,
      ...(Number.isInteger(userId) ? { userId } : {}),
      result: toCallResult(call.result.call_status),
      durationSeconds: call.result.call_duration_seconds ?? 0,
      externalId: call.commandId,
    },
    config,
  );
}

/**
 * Drains the `phone_calls` outbox into RetailCRM's calls upload. At-least-once with `externalId` = command id
 * (RetailCRM drops duplicates), and only one upload per result in the normal case: the result row is written
 * once and leased while it is uploaded. Uploads go through the egress (shared breaker and per-account limit with
 * PBX events); failures back off here, durably, and end in dead_letters; every attempt is an integration_logs row.
 */
export class CallResultUploader {
  private readonly delays: readonly number[];
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  readonly counters = { uploaded: 0, retried: 0, failed: 0 };

  constructor(private readonly o: UploaderOptions) {
    this.delays = o.retryDelaysMs ?? [1000, 5000, 30_000, 60_000, 300_000];
    this.maxAttempts = o.maxAttempts ?? 10;
    this.leaseMs = o.leaseMs ?? 60_000;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), this.o.sweepIntervalMs ?? 5000);
    this.timer.unref();
    this.kick();
  }

  /** Runs a drain soon; concurrent kicks coalesce into one more pass. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again && !this.closed);
      } catch (err) {
        this.o.logger.error({ err }, 'phone result upload pass failed');
      } finally {
        this.running = undefined;
      }
    })();
  }

  /** Uploads everything due now; returns how many were attempted. */
  async drain(): Promise<number> {
    let attempted = 0;
    for (;;) {
      const due = await this.o.calls.claimDue(this.o.clock.now(), this.leaseMs);
      if (due.length === 0) return attempted;
      attempted += due.length;
      await Promise.all(due.map((call) => this.upload(call)));
    }
  }

  /** Resolves when no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async upload(call: DueUpload): Promise<void> {
    const config = await this.o.egress.config(call.enterpriseNumber).catch(() => undefined);
    const record = phoneCallRecord(call, config, this.o.timeZone);
    try {
      // One outbox attempt is one request: the outbox's durable backoff is this path's retry layer.
      await this.o.egress.uploadCalls(call.enterpriseNumber, [record], {
        eventType: 'phone_call_upload',
        callUniqueId: call.commandId,
        attempt: call.attempts,
        retries: 0,
      });
      await this.o.calls.markUploaded(call.commandId, this.o.clock.now());
      this.counters.uploaded += 1;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (call.attempts >= this.maxAttempts) {
        await this.o.calls.markFailed(call.commandId, message);
        await this.o.deadLetters.insertDeadLetter({
          queue: PHONE_RESULTS_QUEUE,
          enterpriseNumber: call.enterpriseNumber,
          jobId: call.commandId,
          payload: record,
          errorMessage: message,
          attempts: call.attempts,
        });
        this.counters.failed += 1;
        return;
      }
      const delay = this.delays[Math.min(call.attempts - 1, this.delays.length - 1)] ?? 60_000;
      await this.o.calls.markRetry(call.commandId, this.o.clock.now() + delay, message);
      this.counters.retried += 1;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }
}
