import type { CrmSink, SinkOutcome } from '../delivery/sink.js';
import { isRetryableError, TelephonyEventsError } from '../errors.js';
import {
  type CallDirection,
  deriveDirection,
  deriveManagerCode,
  derivePhone,
  durationSeconds,
  internalExtensions,
  isAnswered,
  userIdByExtension,
} from '../events/mapping.js';
import type { DownloadPayload, HangupPayload } from '../events/schema.js';
import {
  type CallEvent,
  type CallRecord,
  type Clock,
  type RetailCrmApiFactory,
  type RetailCrmConfigReader,
  type RetailCrmEnterpriseConfig,
  readKey,
  systemClock,
} from '../ports.js';
import type { DeliveryJob } from '../queue/types.js';
import { createApiCache } from './api-cache.js';
import { toCallRecord } from './call-record.js';
import { formatRetailCrmDate, hostTimeZone } from './format.js';

export interface RetailCrmSinkOptions {
  /** `integrations_config.retailcrm` per enterprise. */
  config: RetailCrmConfigReader;
  /** Builds the telephony API for one enterprise; called again when its domain or key changes. */
  createApi: RetailCrmApiFactory;
  /** A dial older than this when its job runs is dropped: a ringing card for a finished call helps nobody (60 s). */
  maxDialAgeMs?: number;
  /**
   * IANA zone of the PBX clock (its `StartTime`/`EndTime` are local wall-clock stamps without a zone). Used only
   * when an upload needs a date the PBX did not send: the time the event was received, written in this zone so
   * every `date` of an enterprise is on the same clock. Default: the host's zone (`hostTimeZone()`).
   */
  timeZone?: string;
  clock?: Clock;
}

const codesToUserIds = (codes: string[], byExtension: Map<string, number>) =>
  codes.map((code) => byExtension.get(code)).filter((id): id is number => id !== undefined);

/**
 * Call-history record of a finished call (hangup or download). `date` is the PBX's `StartTime`, else its `EndTime`
 * (same PBX clock; a call without a start has no duration anyway), else `fallbackDate`.
 */
export function buildCallRecord(
  payload: HangupPayload | DownloadPayload,
  config: Pick<RetailCrmEnterpriseConfig, 'user_extensions' | 'site'>,
  fallbackDate: string,
  recordUrl?: string,
): CallRecord | undefined {
  const phone = derivePhone(payload);
  if (!phone) return undefined;
  return toCallRecord(
    {
      date: payload.StartTime ?? payload.EndTime ?? fallbackDate,
      direction: deriveDirection(payload),
      phone,
      code: deriveManagerCode(payload),
      result: isAnswered(payload.CallStatus) ? 'answered' : 'failed',
      durationSeconds: durationSeconds(payload.StartTime, payload.EndTime),
      externalId: payload.UniqueId,
      recordUrl,
    },
    config,
  );
}

/** RetailCRM mapping of the original system: dial -> in/out event, hangup -> hangup event + upload, download -> upload. */
export function createRetailCrmSink(options: RetailCrmSinkOptions): CrmSink {
  const clock = options.clock ?? systemClock;
  const maxDialAgeMs = options.maxDialAgeMs ?? 60_000;
  const timeZone = options.timeZone ?? hostTimeZone();
  formatRetailCrmDate(0, timeZone); // an unknown zone fails here, at wiring time, not in every delivery
  const apiFor = createApiCache(options.createApi);

  const missingPhone = (job: DeliveryJob) =>
    new TelephonyEventsError('missing_phone', `event ${job.id} has no Phone, CallerIDNum or ConnectedLineNum`);

  return {
    name: 'retailcrm',
    accepts: (eventType) => eventType !== 'bridge',
    async deliver(job, calls): Promise<SinkOutcome> {
      const config = await readKey(options.config, job.enterpriseNumber);
      if (!config) {
        throw new TelephonyEventsError('retailcrm_not_configured', `no RetailCRM config for ${job.enterpriseNumber}`, {
          isRetryable: true,
        });
      }
      if (config.enabled === false) return { skipped: 'disabled' };
      const { event } = job;
      if (config.events?.[event.event_type as 'dial' | 'hangup' | 'download'] === false) {
        return { skipped: `${event.event_type}_disabled` };
      }
      const api = apiFor(job.enterpriseNumber, config);
      const secrets = [config.api_key];
      const byExtension = userIdByExtension(config.user_extensions);
      const site = config.site ? { site: config.site } : {};
      // One named step per CRM call: a step done on an earlier attempt is skipped on a retry.
      const sendCallEvent = (callEvent: CallEvent) =>
        calls.call({
          name: 'callEvent',
          operation: 'telephony.callEvent',
          request: callEvent,
          secrets,
          run: (signal) => api.callEvent(callEvent, { signal }),
        });
      const uploadRecord = (record: CallRecord) =>
        calls.call({
          name: 'upload',
          operation: 'telephony.uploadCalls',
          request: [record],
          secrets,
          run: (signal) => api.uploadCalls([record], { signal }),
        });
      const historyRecord = (payload: HangupPayload | DownloadPayload, recordUrl?: string) => {
        const record = buildCallRecord(payload, config, formatRetailCrmDate(job.receivedAt, timeZone), recordUrl);
        if (!record) throw missingPhone(job);
        return record;
      };

      if (event.event_type === 'dial') {
        if (clock.now() - job.receivedAt > maxDialAgeMs) return { skipped: 'dial_expired' };
        const payload = event.payload;
        const phone = derivePhone(payload);
        if (!phone) throw missingPhone(job);
        const type: CallDirection = deriveDirection(payload);
        // Incoming: the whole ring group sees the card; outgoing: the manager who dials.
        const manager = deriveManagerCode(payload);
        const codes = type === 'in' ? internalExtensions(payload.Extensions) : manager ? [manager] : [];
        await sendCallEvent({
          phone,
          type,
          ...(codes.length ? { codes } : {}),
          ...(codes.length ? { userIds: codesToUserIds(codes, byExtension) } : {}),
          callExternalId: payload.UniqueId,
          ...site,
        });
        return 'delivered';
      }

      if (event.event_type === 'hangup') {
        const payload = event.payload;
        const record = historyRecord(payload);
        let eventError: unknown;
        try {
          await sendCallEvent({
            phone: record.phone,
            type: 'hangup',
            hangupStatus: record.result === 'answered' ? 'answered' : 'no answered',
            ...(record.code ? { codes: [record.code] } : {}),
            ...(record.userId !== undefined ? { userIds: [record.userId] } : {}),
            callExternalId: payload.UniqueId,
            ...site,
          });
        } catch (error) {
          // A retryable failure retries the whole job (steps remembered). A permanent one must not cost the call
          // history: upload anyway, then report the event's failure (dead letter).
          if (isRetryableError(error)) throw error;
          eventError = error;
        }
        await uploadRecord(record);
        if (eventError !== undefined) throw eventError;
        return 'delivered';
      }

      if (event.event_type === 'download') {
        const payload = event.payload;
        const recordUrl = payload.RecordUrl ?? payload.RecordingUrl ?? payload.recording_url ?? undefined;
        await uploadRecord(historyRecord(payload, recordUrl));
        return 'delivered';
      }
      return { skipped: 'no_crm_call' };
    },
  };
}
