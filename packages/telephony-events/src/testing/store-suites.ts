import { randomUUID } from 'node:crypto';
import type { DeadLetterStore } from '../delivery/stores.js';
import type { TelephonyEvent } from '../events/schema.js';
import type { IntegrationLogRecord, IntegrationLogSink, IntegrationLogStatus } from '../ports.js';
import type { DeadLetter } from '../queue/types.js';
import type { QueueSuiteApi } from './queue-suite.js';

/**
 * What a dead-letter store must keep of one entry, as its harness reads it back: the job's id, enterprise and event,
 * the last error's message and the number of attempts.
 */
export interface StoredDeadLetter {
  /** `entry.job.id`. */
  jobId: string;
  /** `entry.job.enterpriseNumber`. */
  enterpriseNumber: string;
  /** `entry.job.event`, equal in value (a store may serialise it). */
  event: TelephonyEvent;
  /** `entry.error.message`. */
  errorMessage: string;
  /** `entry.attempts`. */
  attempts: number;
}

/** A dead-letter store made for one test, with a way to read back what it kept. */
export interface DeadLetterStoreHarness {
  /** The store under test. */
  store: DeadLetterStore;
  /** What the store keeps for this enterprise, oldest first (its admin view or table, not a copy the harness made). */
  entries(enterpriseNumber: string): Promise<StoredDeadLetter[]>;
  /** Releases what the factory opened; called after the test. */
  dispose?(): Promise<void>;
}

/**
 * Makes a fresh harness for one test. Harnesses may share a database between tests: every test uses enterprises of
 * its own.
 */
export type DeadLetterStoreFactory = () => DeadLetterStoreHarness | Promise<DeadLetterStoreHarness>;

/** What an integration log must keep of one record, as its harness reads it back (absent optionals: `undefined`). */
export interface StoredIntegrationLogRecord {
  /** {@link IntegrationLogRecord.enterpriseNumber}. */
  enterpriseNumber: string;
  /** {@link IntegrationLogRecord.integrationType}. */
  integrationType: string;
  /** {@link IntegrationLogRecord.eventType}. */
  eventType: string;
  /** {@link IntegrationLogRecord.operation}. */
  operation: string;
  /** {@link IntegrationLogRecord.requestData}, equal in value. */
  requestData: unknown;
  /** {@link IntegrationLogRecord.responseData}, equal in value. */
  responseData: unknown;
  /** {@link IntegrationLogRecord.status}. */
  status: IntegrationLogStatus;
  /** {@link IntegrationLogRecord.callUniqueId}. */
  callUniqueId?: string | undefined;
  /** {@link IntegrationLogRecord.direction}. */
  direction?: 'in' | 'out' | undefined;
  /** {@link IntegrationLogRecord.phone}. */
  phone?: string | undefined;
  /** {@link IntegrationLogRecord.errorMessage}. */
  errorMessage?: string | undefined;
  /** {@link IntegrationLogRecord.durationMs} (the suite writes whole milliseconds). */
  durationMs: number;
}

/** An integration-log sink made for one test, with a way to read back what it stored. */
export interface IntegrationLogHarness {
  /** The sink under test. */
  sink: IntegrationLogSink;
  /**
   * What the sink stored for this enterprise, oldest first, once every `write` it was given has settled (a sink that
   * buffers flushes here).
   */
  records(enterpriseNumber: string): Promise<StoredIntegrationLogRecord[]>;
  /** Releases what the factory opened; called after the test. */
  dispose?(): Promise<void>;
}

/** Makes a fresh harness for one test (harnesses may share a database: every test uses enterprises of its own). */
export type IntegrationLogFactory = () => IntegrationLogHarness | Promise<IntegrationLogHarness>;

/** Enterprise numbers unique to one test. */
const enterprises = (): ((label: string) => string) => {
  const run = randomUUID().slice(0, 8);
  return (label) => `t-${run}-${label}`;
};

const event = (enterpriseNumber: string, uniqueId: string): TelephonyEvent => ({
  enterprise_number: enterpriseNumber,
  event_type: 'hangup',
  payload: { UniqueId: uniqueId, CallerIDNum: '+375291234567', Extra: { nested: [1, 'два', null] } },
});

const deadLetter = (enterpriseNumber: string, id: string, attempts = 3, message = `503 for ${id}`): DeadLetter => ({
  job: {
    id: `${enterpriseNumber}|${id}|hangup|retailcrm`,
    enterpriseNumber,
    crm: 'retailcrm',
    receivedAt: 1_700_000_000_000,
    event: event(enterpriseNumber, id),
  },
  error: { name: 'Error', message, code: 'crm_unavailable', isRetryable: true },
  attempts,
  failedAt: new Date(1_700_000_060_000),
});

const stored = (entry: DeadLetter): StoredDeadLetter => ({
  jobId: entry.job.id,
  enterpriseNumber: entry.job.enterpriseNumber,
  event: entry.job.event,
  errorMessage: entry.error.message,
  attempts: entry.attempts,
});

/**
 * The {@link DeadLetterStore} conformance suite: every given-up job is kept with its id, enterprise, event, last
 * error and attempts, in order; the same job given up twice is kept twice (nothing is merged or dropped, also under
 * concurrent adds); one enterprise never sees another's entries.
 * `registerDeadLetterStoreSuite({describe, it, expect, afterEach}, 'mine', () => ({store, entries}))`.
 */
export function registerDeadLetterStoreSuite(t: QueueSuiteApi, name: string, factory: DeadLetterStoreFactory): void {
  const { describe, it, expect, afterEach } = t;
  describe(`DeadLetterStore contract: ${name}`, () => {
    const open: DeadLetterStoreHarness[] = [];
    const make = async () => {
      const harness = await factory();
      open.push(harness);
      return harness;
    };
    afterEach(async () => {
      for (const harness of open.splice(0).reverse()) await harness.dispose?.();
    });

    it('keeps each entry with its job, event, error message and attempts, oldest first; a repeat is kept too', async () => {
      const enterprise = enterprises();
      const h = await make();
      const a = deadLetter(enterprise('a'), 'u1', 3);
      const b = deadLetter(enterprise('a'), 'u2', 1, 'non-retryable: 400 from CRM');
      const again = deadLetter(enterprise('a'), 'u1', 5, 'second failure');
      await h.store.add(a);
      await h.store.add(b);
      await h.store.add(again);
      expect(await h.entries(enterprise('a'))).toEqual([stored(a), stored(b), stored(again)]);
    });

    it('concurrent adds are all kept', async () => {
      const enterprise = enterprises();
      const h = await make();
      const entries = Array.from({ length: 20 }, (_, i) => deadLetter(enterprise('a'), `c${i}`));
      await Promise.all(entries.map((entry) => h.store.add(entry)));
      const kept = await h.entries(enterprise('a'));
      expect(kept.map((e) => e.jobId).sort()).toEqual(entries.map((e) => e.job.id).sort());
    });

    it("enterprises are isolated: one enterprise's entries never show under another", async () => {
      const enterprise = enterprises();
      const h = await make();
      const mine = deadLetter(enterprise('a'), 'u1');
      const theirs = deadLetter(enterprise('b'), 'u1');
      await h.store.add(mine);
      await h.store.add(theirs);
      expect(await h.entries(enterprise('a'))).toEqual([stored(mine)]);
      expect(await h.entries(enterprise('b'))).toEqual([stored(theirs)]);
      expect(await h.entries(enterprise('none'))).toEqual([]);
    });
  });
}

const logRecord = (
  enterpriseNumber: string,
  n: number,
  extra: Partial<IntegrationLogRecord> = {},
): IntegrationLogRecord => ({
  enterpriseNumber,
  integrationType: 'retailcrm',
  eventType: 'hangup',
  operation: 'telephony.callEvent',
  requestData: { phone: '+375291234567', type: 'hangup', codes: ['101'], n, note: 'звонок' },
  responseData: { success: true, notExistCodes: [] },
  status: 'success',
  durationMs: 10 + n,
  createdAt: new Date(1_700_000_000_000 + n),
  ...extra,
});

const storedRecord = (r: IntegrationLogRecord): StoredIntegrationLogRecord => ({
  enterpriseNumber: r.enterpriseNumber,
  integrationType: r.integrationType,
  eventType: r.eventType,
  operation: r.operation,
  requestData: r.requestData,
  responseData: r.responseData,
  status: r.status,
  callUniqueId: r.callUniqueId,
  direction: r.direction,
  phone: r.phone,
  errorMessage: r.errorMessage,
  durationMs: r.durationMs,
});

/**
 * The {@link IntegrationLogSink} conformance suite: every record is kept with its integration, event, operation,
 * request and response data, status (all four), call, direction, phone, error and duration, in write order; records
 * written at once are all kept; one enterprise never sees another's rows.
 * `registerIntegrationLogSuite({describe, it, expect, afterEach}, 'mine', () => ({sink, records}))`.
 */
export function registerIntegrationLogSuite(t: QueueSuiteApi, name: string, factory: IntegrationLogFactory): void {
  const { describe, it, expect, afterEach } = t;
  describe(`IntegrationLogSink contract: ${name}`, () => {
    const open: IntegrationLogHarness[] = [];
    const make = async () => {
      const harness = await factory();
      open.push(harness);
      return harness;
    };
    afterEach(async () => {
      for (const harness of open.splice(0).reverse()) await harness.dispose?.();
    });

    it('keeps every field of each record, in write order, for each of the four statuses', async () => {
      const enterprise = enterprises();
      const h = await make();
      const written: IntegrationLogRecord[] = [
        logRecord(enterprise('a'), 1, { callUniqueId: '1700000000.1', direction: 'in', phone: '+375291234567' }),
        logRecord(enterprise('a'), 2, {
          operation: 'telephony.uploadCalls',
          requestData: [{ externalId: '1700000000.2', phone: '+375291234567', result: 'answered' }],
          responseData: null,
          status: 'error',
          errorMessage: '503 Service Unavailable',
          callUniqueId: '1700000000.2',
          direction: 'out',
          phone: '+375291234567',
        }),
        logRecord(enterprise('a'), 3, {
          status: 'warning',
          errorMessage: 'duplicateCalls: recording not taken',
          responseData: { success: true, processedCallsCount: 0, duplicateCalls: ['1700000000.3'] },
          callUniqueId: '1700000000.3',
        }),
        logRecord(enterprise('a'), 4, {
          integrationType: 'amocrm',
          eventType: 'smart_redirect',
          operation: 'telephony.responsibleManager',
          status: 'skipped',
          requestData: { reason: 'flag_off', detail: { flag: 'smart_redirect' } },
          responseData: null,
        }),
      ];
      for (const record of written) await h.sink.write(record);
      expect(await h.records(enterprise('a'))).toEqual(written.map(storedRecord));
    });

    it('records written at once are all kept', async () => {
      const enterprise = enterprises();
      const h = await make();
      const written = Array.from({ length: 20 }, (_, i) =>
        logRecord(enterprise('a'), i, { callUniqueId: `c-${i}`, requestData: { n: i } }),
      );
      await Promise.all(written.map((record) => h.sink.write(record)));
      const kept = await h.records(enterprise('a'));
      expect(kept.map((r) => r.callUniqueId).sort()).toEqual(written.map((r) => r.callUniqueId).sort());
    });

    it("enterprises are isolated: one enterprise's rows never show under another", async () => {
      const enterprise = enterprises();
      const h = await make();
      const mine = logRecord(enterprise('a'), 1, { callUniqueId: 'same-call' });
      const theirs = logRecord(enterprise('b'), 1, { callUniqueId: 'same-call', status: 'error', errorMessage: 'x' });
      await h.sink.write(mine);
      await h.sink.write(theirs);
      expect(await h.records(enterprise('a'))).toEqual([storedRecord(mine)]);
      expect(await h.records(enterprise('b'))).toEqual([storedRecord(theirs)]);
      expect(await h.records(enterprise('none'))).toEqual([]);
    });
  });
}
