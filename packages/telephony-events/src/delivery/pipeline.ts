import type { z } from 'zod';
import { describeError } from '../errors.js';
import { idempotencyKey } from '../events/mapping.js';
import { type EventType, type TelephonyEvent, telephonyEventSchema } from '../events/schema.js';
import {
  type Clock,
  type EnablementReader,
  type IntegrationLogSink,
  type Logger,
  readKey,
  silentLogger,
  systemClock,
} from '../ports.js';
import { createInProcessQueue } from '../queue/in-process-queue.js';
import type { DeadLetter, DeliveryJob, DeliveryQueue, JobContext } from '../queue/types.js';
import { redact } from '../redact.js';
import { createDeliveryPolicies, type DeliveryPolicies, type DeliveryPolicyOptions } from './policies.js';
import type { CrmSink, SinkCalls } from './sink.js';
import { createInMemoryDeadLetterStore, type DeadLetterStore } from './stores.js';

/** What {@link createTelephonyPipeline} needs; only `enablement` and `sinks` are required. */
export interface TelephonyPipelineOptions {
  /** Enablement matrix per enterprise (e.g. a `ConfigCache<Record<string, boolean>>`). */
  enablement: EnablementReader;
  /** One sink per CRM, found by its `name` (the matrix key). */
  sinks: CrmSink[];
  /** Default: an in-process queue. */
  queue?: DeliveryQueue;
  /** Breaker, bulkhead, rate limit and timeout around CRM calls: ready policies, or options to build them. */
  policies?: DeliveryPolicies | DeliveryPolicyOptions;
  /** Receives one row per CRM call and per logged skip (default: none kept). */
  integrationLog?: IntegrationLogSink;
  /** Keeps jobs the queue gave up on (default: an in-memory store). */
  deadLetters?: DeadLetterStore;
  /** How long a hangup makes a later dial of the same call stale (default 10 min). */
  hangupMemoryMs?: number;
  /**
   * An event of an enterprise without an enablement matrix is still answered `ok` (counted in
   * `stats().unknownEnterprise`); the warning about it is logged at most once per enterprise per this interval
   * (default 60 s) so a misconfigured PBX cannot flood the log.
   */
  unknownEnterpriseLogIntervalMs?: number;
  /** Time source for durations, log rows and the hangup memory (default {@link systemClock}). */
  clock?: Clock;
  /** Receives warnings and errors (default: silent). */
  logger?: Logger;
}

/** The answer of {@link TelephonyPipeline.handle}: what happened to one posted event, or why it was refused. */
export type HandleResult =
  | {
      /** Accepted (validated and, for each enabled CRM, enqueued, de-duplicated or ignored). */
      ok: true;
      /** The event's enterprise. */
      enterprise_number: string;
      /** The event's type. */
      event_type: EventType;
      /** CRMs a delivery job was enqueued for. */
      enqueued: string[];
      /** CRMs for which this event was already enqueued inside the de-duplication window. */
      duplicates: string[];
      /** Enabled CRMs that need no call for this event (e.g. bridge), or a dial that arrived after its hangup. */
      ignored: string[];
      /** Enabled in the matrix but no sink is configured for them: not delivered (also counted and logged). */
      unsupported: string[];
    }
  | {
      /** Refused: the input is not a valid event (the PBX should fix it, not resend it). */
      ok: false;
      /** Machine code of the refusal. */
      error: 'invalid_event';
      /** What is wrong, field by field (zod issues). */
      issues: z.core.$ZodIssue[];
    }
  | {
      /** Refused for now: nothing was stored, the PBX should send the event again later. */
      ok: false;
      /** Machine code: the enablement matrix could not be read, or the queue did not take the job. */
      error: 'enablement_unavailable' | 'queue_unavailable';
      /** The underlying error's message. */
      message: string;
    };

/** Counters of one pipeline since it was created. */
export interface PipelineStats {
  /** Valid events received, per event type. */
  received: Record<EventType, number>;
  /** Inputs refused as `invalid_event`. */
  invalid: number;
  /** Delivery jobs enqueued (one per event and enabled CRM). */
  enqueued: number;
  /** Jobs not enqueued because the same event was already enqueued for that CRM within the dedupe window. */
  duplicates: number;
  /** Event and CRM pairs that needed no delivery (the sink does not take the type, or a stale dial). */
  ignored: number;
  /** Deliveries not made because the matrix enables a CRM that has no sink here. */
  unsupported: number;
  /** Events of enterprises without an enablement matrix (the reader answered `undefined`): answered ok, not delivered. */
  unknownEnterprise: number;
  /** Dials that arrived after the hangup of their call (ignored: they would show a card for a finished call). */
  staleDials: number;
  /** Jobs a sink delivered. */
  delivered: number;
  /** Jobs a sink skipped on purpose, per reason (e.g. a flag off, an internal call). */
  skipped: Record<string, number>;
  /** Jobs given up and moved to the dead letters. */
  deadLettered: number;
  /** CRM calls made by sinks, by outcome as written to the integration log. */
  crmCalls: {
    /** Calls answered successfully (including `warning` rows). */
    success: number;
    /** Calls that failed, or were refused before reaching the CRM (open breaker, full bulkhead). */
    error: number;
  };
  /** Integration-log records that could not be written (each one also logged with `logger.error`). */
  integrationLogErrors: number;
}

/** Takes PBX events, answers at once and delivers them to the enabled CRMs through a queue. */
export interface TelephonyPipeline {
  /** Validates, reads the enablement matrix, enqueues one job per enabled CRM and returns; never waits for a CRM. */
  handle(input: unknown): Promise<HandleResult>;
  /** Starts delivering queued jobs; `handle` enqueues before it, but nothing is delivered until it is called. */
  start(): Promise<void>;
  /** Resolves when the queue has nothing waiting, delayed or running (tests, graceful shutdown). */
  onIdle(): Promise<void>;
  /** A copy of the counters. */
  stats(): PipelineStats;
  /** Closes the queue (see {@link DeliveryQueue.close}). */
  close(): Promise<void>;
}

const neverAborted = new AbortController().signal;

const isPolicies = (value: DeliveryPolicies | DeliveryPolicyOptions | undefined): value is DeliveryPolicies =>
  typeof (value as DeliveryPolicies | undefined)?.execute === 'function';

/**
 * Builds the event pipeline: validation, enablement lookup, idempotent enqueue per CRM, and delivery through the
 * sinks under the policies, with integration-log rows and dead letters.
 */
export function createTelephonyPipeline(options: TelephonyPipelineOptions): TelephonyPipeline {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const queue = options.queue ?? createInProcessQueue({ clock });
  const policies = isPolicies(options.policies) ? options.policies : createDeliveryPolicies(options.policies);
  const deadLetters = options.deadLetters ?? createInMemoryDeadLetterStore();
  const sinks = new Map(options.sinks.map((sink) => [sink.name, sink]));
  const hangupMemoryMs = options.hangupMemoryMs ?? 600_000;
  const hungUp = new Map<string, number>(); // enterprise|UniqueId -> expiry
  const stats: PipelineStats = {
    received: { start: 0, dial: 0, bridge: 0, hangup: 0, download: 0 },
    invalid: 0,
    enqueued: 0,
    duplicates: 0,
    ignored: 0,
    unsupported: 0,
    unknownEnterprise: 0,
    staleDials: 0,
    delivered: 0,
    skipped: {},
    deadLettered: 0,
    crmCalls: { success: 0, error: 0 },
    integrationLogErrors: 0,
  };

  const rememberHangup = (key: string) => {
    const now = clock.now();
    hungUp.delete(key);
    hungUp.set(key, now + hangupMemoryMs);
    for (const [k, until] of hungUp) {
      if (until > now && hungUp.size <= 100_000) break;
      hungUp.delete(k);
    }
  };
  const sawHangup = (key: string) => (hungUp.get(key) ?? 0) > clock.now();

  const unknownLogIntervalMs = options.unknownEnterpriseLogIntervalMs ?? 60_000;
  const unknownLogged = new Map<string, { at: number; suppressed: number }>(); // bounded, oldest first
  const reportUnknownEnterprise = (enterprise: string, eventType: EventType) => {
    stats.unknownEnterprise++;
    const now = clock.now();
    const last = unknownLogged.get(enterprise);
    if (last && now - last.at < unknownLogIntervalMs) {
      last.suppressed++;
      return;
    }
    unknownLogged.delete(enterprise);
    unknownLogged.set(enterprise, { at: now, suppressed: 0 });
    if (unknownLogged.size > 1000) unknownLogged.delete(unknownLogged.keys().next().value as string);
    logger.warn(
      { enterprise, eventType, suppressedSinceLastLog: last?.suppressed ?? 0 },
      'event for an enterprise without an enablement matrix; answered ok, not delivered',
    );
  };

  const writeLog = async (record: Parameters<IntegrationLogSink['write']>[0]) => {
    if (record.status === 'success' || record.status === 'warning') stats.crmCalls.success++;
    else if (record.status === 'error') stats.crmCalls.error++;
    try {
      await options.integrationLog?.write(record);
    } catch (error) {
      stats.integrationLogErrors++;
      logger.error({ err: describeError(error) }, 'integration log write failed');
    }
  };

  // A batched step's request runs under the policies in its batcher; here it is only timed and observed.
  const runBatched: DeliveryPolicies['execute'] = async (_target, fn, observe) => {
    const startedAt = clock.now();
    try {
      const value = await fn(neverAborted);
      await observe?.({ status: 'success', value, durationMs: clock.now() - startedAt });
      return value;
    } catch (error) {
      await observe?.({ status: 'error', error, durationMs: clock.now() - startedAt });
      throw error;
    }
  };

  const callsFor = (job: DeliveryJob, context: JobContext): SinkCalls => ({
    async call(step) {
      if (context.isStepDone(step.name)) return undefined;
      const base = {
        enterpriseNumber: job.enterpriseNumber,
        integrationType: job.crm,
        eventType: job.event.event_type,
        operation: step.operation,
        requestData: redact(step.request, step.secrets),
        ...step.trace,
      };
      const logError = (error: unknown, durationMs: number) => {
        const info = redact(describeError(error), step.secrets);
        const response = (error as { response?: unknown } | undefined)?.response;
        return writeLog({
          ...base,
          responseData: response === undefined ? null : redact(response, step.secrets),
          status: 'error',
          errorMessage: `${info.code ?? info.name}: ${info.message}`,
          durationMs,
          createdAt: new Date(clock.now()),
        });
      };
      const observed = new Set<unknown>();
      try {
        const execute = step.batched ? runBatched : policies.execute;
        const response = await execute(
          { enterpriseNumber: job.enterpriseNumber, crm: job.crm },
          step.run,
          async (outcome) => {
            if (outcome.status === 'error') {
              observed.add(outcome.error);
              return logError(outcome.error, outcome.durationMs);
            }
            const warning = step.assess?.(outcome.value);
            return writeLog({
              ...base,
              responseData: redact(outcome.value, step.secrets),
              status: warning ? 'warning' : 'success',
              ...(warning ? { errorMessage: warning } : {}),
              durationMs: outcome.durationMs,
              createdAt: new Date(clock.now()),
            });
          },
        );
        await context.markStepDone(step.name);
        return response;
      } catch (error) {
        // Rejections that never reached the CRM (open breaker, full bulkhead) are logged here.
        if (!observed.has(error)) await logError(error, 0);
        throw error;
      }
    },
  });

  const runJob = async (job: DeliveryJob, context: JobContext) => {
    const sink = sinks.get(job.crm);
    if (!sink) throw Object.assign(new Error(`no sink for ${job.crm}`), { isRetryable: false, code: 'unknown_crm' });
    const outcome = await sink.deliver(job, callsFor(job, context));
    if (outcome === 'delivered') {
      stats.delivered++;
      return;
    }
    stats.skipped[outcome.skipped] = (stats.skipped[outcome.skipped] ?? 0) + 1;
    if (outcome.trace) {
      await writeLog({
        enterpriseNumber: job.enterpriseNumber,
        integrationType: job.crm,
        eventType: job.event.event_type,
        operation: 'skipped',
        requestData: { reason: outcome.skipped, ...outcome.detail },
        responseData: null,
        status: 'skipped',
        errorMessage: outcome.skipped,
        durationMs: 0,
        createdAt: new Date(clock.now()),
        ...outcome.trace,
      });
    }
  };

  const onDeadLetter = async (entry: DeadLetter) => {
    stats.deadLettered++;
    logger.error(
      { job: entry.job.id, attempts: entry.attempts, err: entry.error },
      'delivery given up; moved to dead letters',
    );
    try {
      await deadLetters.add(entry);
    } catch (error) {
      logger.error({ job: entry.job.id, err: describeError(error) }, 'dead-letter store write failed');
    }
  };

  return {
    async handle(input) {
      const parsed = telephonyEventSchema.safeParse(input);
      if (!parsed.success) {
        stats.invalid++;
        return { ok: false, error: 'invalid_event', issues: parsed.error.issues };
      }
      const event: TelephonyEvent = parsed.data;
      const enterprise = event.enterprise_number;
      const uniqueId = event.payload.UniqueId;
      stats.received[event.event_type]++;
      let matrix: Record<string, boolean> | undefined;
      try {
        matrix = await readKey(options.enablement, enterprise);
      } catch (error) {
        logger.error({ enterprise, err: describeError(error) }, 'enablement matrix unavailable');
        return { ok: false, error: 'enablement_unavailable', message: describeError(error).message };
      }
      // Answered ok on purpose: the PBX would resend a rejected event forever, and an unknown tenant will not
      // become known by retrying. Visible in stats and (rate-limited) in the log instead.
      if (matrix === undefined) reportUnknownEnterprise(enterprise, event.event_type);
      const result = {
        ok: true as const,
        enterprise_number: enterprise,
        event_type: event.event_type,
        enqueued: [] as string[],
        duplicates: [] as string[],
        ignored: [] as string[],
        unsupported: [] as string[],
      };
      // The stored job (queue, dead letters) needs no credentials: the PBX `Token` and the like are masked.
      const storedEvent = redact(event);
      const callKey = `${enterprise}|${uniqueId}`;
      // A dial that arrives after its call's hangup would pop a ringing card for a finished call.
      const staleDial = event.event_type === 'dial' && sawHangup(callKey);
      if (event.event_type === 'hangup') rememberHangup(callKey);
      for (const [crm, enabled] of Object.entries(matrix ?? {})) {
        if (!enabled) continue;
        const sink = sinks.get(crm);
        if (!sink) {
          // Nothing is dropped silently: a CRM switched on without a sink is visible in the answer, stats and log.
          result.unsupported.push(crm);
          stats.unsupported++;
          logger.warn({ enterprise, crm }, 'CRM enabled in the matrix but no sink is configured; not delivered');
          continue;
        }
        if (!sink.accepts(event.event_type) || staleDial) {
          result.ignored.push(crm);
          stats.ignored++;
          if (staleDial) stats.staleDials++;
          continue;
        }
        const id = `${idempotencyKey(enterprise, uniqueId, event.event_type)}|${crm}`;
        let outcome: Awaited<ReturnType<DeliveryQueue['enqueue']>>;
        try {
          outcome = await queue.enqueue({
            id,
            enterpriseNumber: enterprise,
            crm,
            event: storedEvent,
            receivedAt: clock.now(),
          });
        } catch (error) {
          // The PBX side should retry (e.g. answer 503): the event is not stored anywhere yet.
          logger.error({ enterprise, crm, err: describeError(error) }, 'enqueue failed');
          return { ok: false, error: 'queue_unavailable', message: describeError(error).message };
        }
        if (outcome === 'duplicate') {
          result.duplicates.push(crm);
          stats.duplicates++;
        } else {
          result.enqueued.push(crm);
          stats.enqueued++;
        }
      }
      return result;
    },
    start: () => queue.start(runJob, onDeadLetter),
    onIdle: () => queue.onIdle(),
    stats: () => structuredClone(stats),
    close: () => queue.close(),
  };
}
