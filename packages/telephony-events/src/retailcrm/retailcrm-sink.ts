import type { CrmSink, SinkCalls, SinkOutcome } from '../delivery/sink.js';
import type { UploadBatcher } from '../delivery/upload-batcher.js';
import { isRetryableError, TelephonyEventsError } from '../errors.js';
import { userIdByExtension } from '../events/mapping.js';
import {
  type CallEvent,
  type CallRecord,
  type CallTrace,
  type Clock,
  type Logger,
  type RetailCrmApiFactory,
  type RetailCrmConfigReader,
  type RetailCrmEnterpriseConfig,
  type RetailCrmTaskInput,
  type RetailCrmTasksApiFactory,
  readKey,
  silentLogger,
  systemClock,
  type UploadCallsResponse,
} from '../ports.js';
import type { DeliveryJob } from '../queue/types.js';
import { createApiCache } from './api-cache.js';
import { toCallRecord } from './call-record.js';
import { type CallView, viewCall } from './call-view.js';
import { formatRetailCrmDate, hostTimeZone } from './format.js';
import { createRecordingHold, type RecordingHold } from './recording-hold.js';

/** What {@link createRetailCrmSink} needs; only `config` and `createApi` are required. */
export interface RetailCrmSinkOptions {
  /** `integrations_config.retailcrm` per enterprise, read per event (a config cache: no extra DB read). */
  config: RetailCrmConfigReader;
  /** Builds the telephony API for one enterprise; called again when its domain or key changes. */
  createApi: RetailCrmApiFactory;
  /** Builds the tasks API (missed-call tasks); without it `missed_call_task` is logged and skipped. */
  createTasksApi?: RetailCrmTasksApiFactory;
  /** A dial older than this when its job runs is dropped: a ringing card for a finished call helps nobody (60 s). */
  maxDialAgeMs?: number;
  /**
   * IANA zone of the PBX clock (its `StartTime`/`EndTime` are local wall-clock stamps without a zone); an
   * enterprise's `time_zone` overrides it. Used for stamps with an offset or in epoch seconds, and for the time the
   * event was received when an upload has no date. Default: the host's zone (`hostTimeZone()`). An enterprise
   * config with `account_time_zone` (the zone RetailCRM reads dates in) has every date converted to that clock.
   */
  timeZone?: string;
  /**
   * Coalesces history uploads per enterprise (up to 50 calls per request, one rate token per request); without it
   * each job makes its own request. Give it the pipeline's policies.
   */
  uploads?: UploadBatcher;
  /** Where uploads wait for their recording (default: in this process). */
  recordings?: RecordingHold;
  /** Time source of event ages and the fallback upload date (default {@link systemClock}). */
  clock?: Clock;
  /** Receives warnings (bad zones in a config, failed manager lookups, missing tasks API) (default: silent). */
  logger?: Logger;
}

const codesToUserIds = (codes: string[], byExtension: Map<string, number>) =>
  codes.map((code) => byExtension.get(code)).filter((id): id is number => id !== undefined);

const traceOf = (view: CallView): CallTrace => ({
  callUniqueId: view.uniqueId,
  direction: view.direction,
  ...(view.anonymous ? {} : { phone: view.phone }),
});

/** Call-history record of a finished call: `date` = start, else end, else `fallbackDate` (all on the PBX clock). */
export function buildCallRecord(
  view: CallView,
  config: Pick<RetailCrmEnterpriseConfig, 'user_extensions' | 'site'>,
  fallbackDate: string,
  recordUrl?: string,
): CallRecord {
  return toCallRecord(
    {
      date: view.start ?? view.end ?? fallbackDate,
      direction: view.direction,
      phone: view.phone,
      code: view.managerCode,
      result: view.answered ? 'answered' : 'failed',
      durationSeconds: view.duration,
      externalId: view.uniqueId,
      recordUrl,
    },
    config,
  );
}

/**
 * An upload answered `duplicateCalls`: RetailCRM already had the call, so it is delivered (a re-sent upload is not
 * a duplicate call). If this upload carried a recording, RetailCRM dropped it: say so (integration log `warning`).
 */
export function lostRecording(record: CallRecord, response: UploadCallsResponse | undefined): string | undefined {
  if (!record.recordUrl || !record.externalId) return undefined;
  if (!response?.duplicateCalls?.includes(record.externalId)) return undefined;
  return `RetailCRM already had call ${record.externalId}; its recording was not attached (RetailCRM cannot add a recording to an uploaded call: raise recording_wait_seconds)`;
}

/**
 * RetailCRM mapping of the original system, gated by the enterprise's flags: dial -> `in`/`out` card, hangup ->
 * `hangup` event + history upload (+ missed-call task), download -> history upload with the recording; start and
 * bridge -> nothing. Only customer calls are sent (internal calls on request); see the README's table.
 */
export function createRetailCrmSink(options: RetailCrmSinkOptions): CrmSink {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxDialAgeMs = options.maxDialAgeMs ?? 60_000;
  const defaultZone = options.timeZone ?? hostTimeZone();
  formatRetailCrmDate(0, defaultZone); // an unknown zone fails here, at wiring time, not in every delivery
  const apiFor = createApiCache(options.createApi);
  const recordings = options.recordings ?? createRecordingHold({ clock });
  const uploads = options.uploads;
  // Calls whose dial this process handled (ring group kept for the missed-call task): a hangup without one may show
  // the card the original's synthetic dial showed.
  const dialsSeen = new Map<string, { until: number; extensions: string[] }>();
  const rememberDial = (key: string, extensions: string[]) => {
    const now = clock.now();
    dialsSeen.delete(key);
    dialsSeen.set(key, { until: now + 600_000, extensions });
    for (const [k, v] of dialsSeen) {
      if (v.until > now && dialsSeen.size <= 50_000) break;
      dialsSeen.delete(k);
    }
  };

  /** The zone when it is a known IANA zone; an unknown one is logged and ignored (the caller's default applies). */
  const knownZone = (zone: string | undefined, setting: 'time_zone' | 'account_time_zone') => {
    if (!zone) return undefined;
    try {
      formatRetailCrmDate(0, zone);
      return zone;
    } catch {
      logger.warn({ timeZone: zone, setting }, `unknown ${setting} in the enterprise config; ignoring it`);
      return undefined;
    }
  };

  return {
    name: 'retailcrm',
    accepts: (eventType) => eventType === 'dial' || eventType === 'hangup' || eventType === 'download',
    async deliver(job, calls): Promise<SinkOutcome> {
      const config = await readKey(options.config, job.enterpriseNumber);
      if (!config) {
        throw new TelephonyEventsError('retailcrm_not_configured', `no RetailCRM config for ${job.enterpriseNumber}`, {
          isRetryable: true,
        });
      }
      if (config.enabled === false) return { skipped: 'disabled' };
      const { event } = job;
      const timeZone = knownZone(config.time_zone, 'time_zone') ?? defaultZone;
      const accountTimeZone = knownZone(config.account_time_zone, 'account_time_zone');
      const view = viewCall(event, { defaultCountry: config.default_country, timeZone, accountTimeZone });
      // Instants (the time an event arrived) are written on the clock RetailCRM reads dates in.
      const writeZone = accountTimeZone ?? timeZone;
      const trace = traceOf(view);
      const key = `${job.enterpriseNumber}|${view.uniqueId}`;
      if (view.unknownExtensions.length) {
        logger.warn(
          { enterprise: job.enterpriseNumber, uniqueId: view.uniqueId, unknownExtensions: view.unknownExtensions },
          'Extensions items that are not internal numbers; check the dialplan',
        );
      }
      if (event.event_type === 'dial') rememberDial(key, view.extensions);
      if (view.kind === 'crm_leg') return { skipped: 'crm_initiated_leg', trace };
      if (view.kind === 'internal' && config.send_internal_calls !== true) return { skipped: 'internal_call', trace };

      const flags = config.events ?? {};
      const cardOn = (direction: 'in' | 'out') =>
        flags.dial !== false && (direction === 'in' ? flags.incoming !== false : flags.outgoing !== false);
      const api = apiFor(job.enterpriseNumber, config);
      const secrets = [config.api_key];
      const byExtension = userIdByExtension(config.user_extensions);
      const site = config.site ? { site: config.site } : {};
      const step = <T>(name: string, operation: string, request: unknown, run: (s: AbortSignal) => Promise<T>) =>
        calls.call({ name, operation, request, secrets, run, trace });
      const sendCallEvent = (name: string, callEvent: CallEvent) =>
        step(name, 'telephony.callEvent', callEvent, (signal) => api.callEvent(callEvent, { signal }));
      const card = (name: string, codes: string[]) =>
        sendCallEvent(name, {
          phone: view.phone,
          type: view.direction,
          ...(codes.length ? { codes, userIds: codesToUserIds(codes, byExtension) } : {}),
          callExternalId: view.uniqueId,
          ...site,
        });
      const ringGroup = () => (view.direction === 'in' ? view.extensions : view.managerCode ? [view.managerCode] : []);

      if (event.event_type === 'dial') {
        if (clock.now() - job.receivedAt > maxDialAgeMs) return { skipped: 'dial_expired', trace };
        if (view.anonymous) return { skipped: 'anonymous_caller', trace };
        if (!cardOn(view.direction)) {
          return { skipped: `${view.direction === 'in' ? 'incoming' : 'outgoing'}_disabled`, trace };
        }
        await card('callEvent', ringGroup());
        return 'delivered';
      }

      const historyOn = flags.history !== false && (event.event_type !== 'download' || flags.download !== false);
      const fallbackDate = formatRetailCrmDate(job.receivedAt, writeZone);
      const upload = async (recordUrl: string | undefined) => {
        const record = buildCallRecord(view, config, fallbackDate, recordUrl);
        const response = await calls.call({
          name: 'upload',
          operation: 'telephony.uploadCalls',
          request: [record],
          secrets,
          trace,
          run: (signal) =>
            uploads
              ? uploads.upload({ target: { enterpriseNumber: job.enterpriseNumber, crm: job.crm }, api, record })
              : api.uploadCalls([record], { signal }),
          batched: uploads !== undefined,
          assess: (answer) => lostRecording(record, answer),
        });
        if (recordUrl) recordings.markUploaded(key);
        return response;
      };

      if (event.event_type === 'download') {
        if (!historyOn) return { skipped: 'history_disabled', trace };
        if (view.recordUrl && recordings.offer(key, view.recordUrl))
          return { skipped: 'recording_joined_hangup', trace };
        await upload(view.recordUrl);
        return 'delivered';
      }

      // hangup
      const delivered: string[] = [];
      let eventError: unknown;
      const seen = dialsSeen.get(key);
      // A replay (the original's `origin: "download"`, or a re-sent dead letter marked `origin: "resend"`) never
      // shows a card: the call is long over.
      const replayed = typeof (event as { origin?: unknown }).origin === 'string';
      const fresh = !replayed && clock.now() - job.receivedAt <= maxDialAgeMs;
      try {
        if (!view.anonymous && !seen && fresh && view.direction === 'in' && cardOn('in')) {
          // No dial reached us: show the card the original's synthetic dial showed, so the hangup closes something.
          await card('syntheticDial', view.managerCode ? [view.managerCode] : []);
          delivered.push('card');
        }
        if (!view.anonymous && flags.hangup !== false) {
          await sendCallEvent('callEvent', {
            phone: view.phone,
            type: 'hangup',
            hangupStatus: view.answered ? 'answered' : 'no answered',
            ...(view.managerCode ? { codes: [view.managerCode] } : {}),
            ...(view.managerCode && byExtension.has(view.managerCode)
              ? { userIds: [byExtension.get(view.managerCode) as number] }
              : {}),
            callExternalId: view.uniqueId,
            ...site,
          });
          delivered.push('hangup');
        }
      } catch (error) {
        // A retryable failure retries the whole job (steps remembered). A permanent one must not cost the call
        // history: upload anyway, then report the event's failure (dead letter).
        if (isRetryableError(error)) throw error;
        eventError = error;
      }
      if (historyOn) {
        const waitMs = Math.max(0, (config.recording_wait_seconds ?? 0) * 1000 - (clock.now() - job.receivedAt));
        const recordUrl = view.recordUrl ?? (await recordings.wait(key, waitMs));
        await upload(recordUrl);
        delivered.push('history');
      }
      if (config.missed_call_task === true && view.direction === 'in' && !view.answered && !view.anonymous) {
        if (await createMissedCallTask(job, calls, config, view, seen?.extensions ?? [], writeZone))
          delivered.push('task');
      }
      if (eventError !== undefined) throw eventError;
      if (!delivered.length) return { skipped: view.anonymous ? 'anonymous_caller' : 'hangup_disabled', trace };
      return 'delivered';
    },
  };

  /** A task for the responsible manager (RetailCRM's, else the first of the ring group); false when nobody. */
  async function createMissedCallTask(
    job: DeliveryJob,
    calls: SinkCalls,
    config: RetailCrmEnterpriseConfig,
    view: CallView,
    ringGroup: string[],
    timeZone: string,
  ): Promise<boolean> {
    const tasks = options.createTasksApi?.(config, job.enterpriseNumber);
    if (!tasks) {
      logger.warn({ enterprise: job.enterpriseNumber }, 'missed_call_task is on but the client has no tasks API');
      return false;
    }
    const api = apiFor(job.enterpriseNumber, config);
    let performerId: number | undefined;
    try {
      performerId = (await api.responsibleManager({ phone: view.phone, details: true })).manager?.id;
    } catch (error) {
      logger.warn({ enterprise: job.enterpriseNumber, err: String(error) }, 'responsible manager lookup failed');
    }
    const byExtension = userIdByExtension(config.user_extensions);
    performerId ??= ringGroup.map((code) => byExtension.get(code)).find((id) => id !== undefined);
    if (performerId === undefined) {
      logger.warn({ enterprise: job.enterpriseNumber, uniqueId: view.uniqueId }, 'missed call: no manager for a task');
      return false;
    }
    const task: RetailCrmTaskInput = {
      text: `Missed call from ${view.phone}`,
      commentary: `Call ${view.uniqueId} at ${view.start ?? view.end ?? formatRetailCrmDate(job.receivedAt, timeZone)} was not answered.`,
      performerId,
      phone: view.phone,
    };
    await calls.call({
      name: 'task',
      operation: 'tasks.create',
      request: task,
      secrets: [config.api_key],
      trace: traceOf(view),
      run: (signal) => tasks.create(task, { signal, ...(config.site ? { site: config.site } : {}) }),
    });
    return true;
  }
}
