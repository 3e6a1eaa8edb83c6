import { describe, expect, it } from 'vitest';
import { InMemoryInboundDedup } from './dedup.js';
import { inboundKeyOf, sendIdempotencyKey, waQrCacheKeys } from './keys.js';
import { parseMessageIn } from './normalise.js';
import { TransportMessageSchema } from './schemas.js';

const parsed = (body: unknown) => {
  const result = parseMessageIn(body);
  if (!result.ok) throw new Error('invalid');
  return result.value;
};

describe('inboundKeyOf', () => {
  const incoming = parsed({
    event: 'messages.incoming',
    tenant: 7,
    channel: 'whatsapp',
    message_id: 'A1',
    from: '79991234567',
    text: 'x',
    ts: 1,
  });

  it('keys messages by (tenant, provider, message_id) and skips qr/ready', async () => {
    expect(inboundKeyOf(incoming)).toEqual({ tenant: 7, provider: 'whatsapp', message_id: 'A1' });
    expect(inboundKeyOf(parsed({ event: 'ready', tenant: 7 }))).toBeUndefined();
    expect(inboundKeyOf(parsed({ event: 'qr', tenant: 7, qr_id: 1, svg: '<svg/>' }))).toBeUndefined();
  });

  it('a status for the same id does not shadow the message', async () => {
    const dedup = new InMemoryInboundDedup();
    const status = parsed({
      event: 'messages.status',
      tenant: 7,
      channel: 'whatsapp',
      message_id: 'A1',
      status: 'read',
      ts: 1,
    });
    const statusKey = inboundKeyOf(status);
    const messageKey = inboundKeyOf(incoming);
    if (!statusKey || !messageKey) throw new Error('keys expected');
    expect(await dedup.claim(statusKey)).toBe(true);
    expect(await dedup.claim(messageKey)).toBe(true);
    expect(await dedup.claim(messageKey)).toBe(false);
  });
});

describe('sendIdempotencyKey / QR keys', () => {
  it('derives a send key only from client_msg_id', () => {
    const base = { tenant: 1, channel: 'telegram', to: 'me', text: 'x' };
    expect(sendIdempotencyKey(TransportMessageSchema.parse(base))).toBeUndefined();
    expect(sendIdempotencyKey(TransportMessageSchema.parse({ ...base, client_msg_id: 'c1' }))).toEqual({
      tenant: 1,
      provider: 'send:telegram',
      message_id: 'c1',
    });
  });

  it("uses the seed's Redis key names", () => {
    expect(waQrCacheKeys(1, '1715940000000')).toEqual({ svg: 'wa:qr:1:1715940000000:svg', last: 'wa:qr:last:1' });
  });
});
