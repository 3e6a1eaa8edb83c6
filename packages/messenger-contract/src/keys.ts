import type { InboundKey } from './dedup.js';
import type { MessageIn, TransportMessage } from './schemas.js';

/**
 * De-dup key of an inbound event: (tenant, provider, message_id) for messages and delivery statuses; undefined for
 * qr / ready events, which are state updates and safe to repeat.
 */
export function inboundKeyOf(event: MessageIn): InboundKey | undefined {
  if (event.event !== 'messages.incoming' && event.event !== 'messages.status') return undefined;
  // Statuses get their own namespace so a "delivered" never shadows the message with the same id.
  const provider = event.provider ?? event.channel;
  return {
    tenant: event.tenant,
    provider: event.event === 'messages.status' ? `${provider}:status:${event.status}` : provider,
    message_id: event.message_id,
  };
}

/**
 * Idempotency key of a send carrying `client_msg_id`: claim it with any InboundDedup before delivering so a retried
 * POST /send is delivered at most once. Undefined when the caller gave no client_msg_id.
 */
export function sendIdempotencyKey(message: TransportMessage): InboundKey | undefined {
  if (message.client_msg_id === undefined) return undefined;
  return { tenant: message.tenant, provider: `send:${message.channel}`, message_id: message.client_msg_id };
}

/** The seed's minimum lifetime of a cached WhatsApp QR (seconds). */
export const WA_QR_TTL_SECONDS = 180;

/** The seed's Redis keys for WhatsApp QR codes: `wa:qr:{tenant}:{qr_id}:svg` and `wa:qr:last:{tenant}`. */
export function waQrCacheKeys(
  tenant: number,
  qrId: string,
): {
  /** Key of this QR code's SVG. */
  svg: string;
  /** Key that points at the tenant's latest QR code. */
  last: string;
} {
  return { svg: `wa:qr:${tenant}:${qrId}:svg`, last: `wa:qr:last:${tenant}` };
}

/** The seed's Redis list that receives valid inbound events (LPUSH). */
export const INBOX_QUEUE_KEY = 'inbox:message_in';
/** The seed's Redis list of outgoing sends. */
export const OUTBOX_QUEUE_KEY = 'outbox:send';
