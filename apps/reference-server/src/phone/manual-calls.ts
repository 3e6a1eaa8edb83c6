import type { ExtendedCallUpdate } from '@callbridge/phone-protocol';
import type { PhoneCallStore } from './calls.js';
import type { SqlDeviceRegistry, SqlPhoneUserStore } from './stores.js';

/**
 * The number a manual call was made to (or came from): the Android client sends it next to the extended fields
 * (`phone`, older builds `phone_number` / `number`). Formatting is dropped; a leading `+` is kept.
 */
export function manualCallPhone(update: ExtendedCallUpdate): string | undefined {
  const raw = update as ExtendedCallUpdate & Record<string, unknown>;
  for (const key of ['phone', 'phone_number', 'number']) {
    const v = raw[key];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const compact = String(v)
      .trim()
      .replace(/[\s\-().]/g, '');
    if (/^\+?\d{3,20}$/.test(compact)) return compact;
  }
  return undefined;
}

/** Stable id of a manual call (the device's own `call_request_id`, scoped to its user): the upload's externalId. */
export const manualCallId = (userId: string, callRequestId: string): string => `manual-${userId}-${callRequestId}`;

/**
 * Files a result the phone reported for a call started by hand (`action_source: manual`, no click-to-call command)
 * into the same `phone_calls` outbox click-to-call results use, so the uploader sends it to RetailCRM call history
 * the same way. The manager is the phone user's extension; their RetailCRM user comes from `user_extensions`.
 * Returns true when a new upload is due (false: duplicate, unbound user, or no phone number to upload).
 */
export async function recordManualCall(
  deps: {
    users: SqlPhoneUserStore;
    devices: SqlDeviceRegistry;
    calls: PhoneCallStore;
    /** The account's RetailCRM config (`user_extensions`: RetailCRM user id -> extension). */
    config: (enterpriseNumber: string) => Promise<{ user_extensions: Record<string, string | null> } | undefined>;
  },
  userId: string,
  update: ExtendedCallUpdate,
  now: number,
): Promise<boolean> {
  const user = await deps.users.findById(userId);
  if (!user?.enterpriseNumber || !user.extension) return false;
  const cfg = await deps.config(user.enterpriseNumber).catch(() => undefined);
  const retailcrmUserId =
    Object.entries(cfg?.user_extensions ?? {}).find(([, extension]) => extension === user.extension)?.[0] ?? null;
  const device = (await deps.devices.listByUser(user.id))[0];
  const phone = manualCallPhone(update);
  return deps.calls.insertResult(
    {
      commandId: manualCallId(user.id, update.call_request_id),
      enterpriseNumber: user.enterpriseNumber,
      retailcrmUserId,
      extension: user.extension,
      phone: phone ?? '',
      phoneUserId: user.id,
      deviceId: device?.deviceId ?? '',
      createdAt: now,
    },
    update,
    now,
    // Without a number RetailCRM cannot place the call in history: kept for the record, never uploaded.
    phone === undefined ? 'manual call without a phone number' : undefined,
  );
}
