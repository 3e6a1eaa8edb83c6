import { randomBytes } from 'node:crypto';

/** Tuning for tests: short retries, short breaker, short BullMQ lock. */
export const fastDeliveryEnv = {
  QUEUE_ATTEMPTS: '40',
  QUEUE_RETRY_BASE_MS: '150',
  QUEUE_RETRY_MAX_MS: '400',
  QUEUE_LOCK_DURATION_MS: '1500',
  QUEUE_STALLED_INTERVAL_MS: '500',
  DELIVERY_TIMEOUT_MS: '1500',
  BREAKER_FAILURES: '3',
  BREAKER_HALF_OPEN_MS: '400',
};

export const randomPrefix = () => `cbt${randomBytes(4).toString('hex')}`;

export const allEvents = { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: false };

export const hangupEvent = (uid: string, pbxToken = 'pbx-0367', enterprise = '0367') => ({
  enterprise_number: enterprise,
  event_type: 'hangup',
  payload: {
    Token: pbxToken,
    UniqueId: uid,
    CallType: 0,
    Phone: '+79001234567',
    Extensions: ['150'],
    CallStatus: '2',
    StartTime: '2026-11-23 10:00:00',
    EndTime: '2026-11-23 10:01:05',
  },
});

/** A bridge needs no CRM call: `ignored:["retailcrm"]` when enabled, `[]` when disabled. A cheap cache probe. */
export const bridgeEvent = (uid: string, pbxToken = 'pbx-0367', enterprise = '0367') => ({
  enterprise_number: enterprise,
  event_type: 'bridge',
  payload: { Token: pbxToken, UniqueId: uid, CallType: 0, Phone: '+79001234567', Extensions: ['150'] },
});

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; data: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    data = { raw: text };
  }
  return { status: res.status, data };
}

/** Uploads (successful `/telephony/calls/upload` requests) that carried this externalId. */
export function uploadsOf(
  requests: Array<{ path: string; status: number; form?: Record<string, unknown> }>,
  id: string,
) {
  return requests.filter(
    (r) => r.path === '/telephony/calls/upload' && r.status === 200 && JSON.stringify(r.form ?? {}).includes(id),
  ).length;
}
