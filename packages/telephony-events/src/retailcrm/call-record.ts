import type { CallDirection } from '../events/mapping.js';
import { userIdByExtension } from '../events/mapping.js';
import type { CallRecord, CallResult, RetailCrmEnterpriseConfig } from '../ports.js';

/**
 * A finished call, whoever reported it (a PBX hangup or download, a phone's call result): the one input of the
 * RetailCRM call-history record, so every source uploads the same shape.
 */
export interface FinishedCall {
  /** `Y-m-d H:i:s` on the clock RetailCRM reads (see `formatRetailCrmDate`). */
  date: string;
  /** Who called whom; becomes the record's `type`. */
  direction: CallDirection;
  /** The customer's number. */
  phone: string;
  /** The manager's extension, when known. */
  code?: string;
  /** RetailCRM user id when the reporter knows it; otherwise looked up by `code` in `user_extensions`. */
  userId?: number;
  /** How the call ended. */
  result: CallResult;
  /** Talk time; rounded to whole seconds, never negative. */
  durationSeconds?: number;
  /** Unique per call (PBX UniqueId, phone command id): RetailCRM drops a re-sent upload with a known id. */
  externalId: string;
  /** URL of the recording, when there is one; RetailCRM only takes it with the call's first upload. */
  recordUrl?: string;
}

/** RetailCRM calls-upload record of a finished call; `site` comes from the enterprise's config. */
export function toCallRecord(
  call: FinishedCall,
  config: Pick<RetailCrmEnterpriseConfig, 'user_extensions' | 'site'>,
): CallRecord {
  const userId =
    call.userId ?? (call.code === undefined ? undefined : userIdByExtension(config.user_extensions).get(call.code));
  return {
    date: call.date,
    type: call.direction,
    phone: call.phone,
    ...(call.code ? { code: call.code } : {}),
    ...(userId !== undefined ? { userId } : {}),
    result: call.result,
    ...(call.durationSeconds !== undefined ? { duration: Math.max(0, Math.round(call.durationSeconds)) } : {}),
    externalId: call.externalId,
    ...(call.recordUrl ? { recordUrl: call.recordUrl } : {}),
    ...(config.site ? { site: config.site } : {}),
  };
}
