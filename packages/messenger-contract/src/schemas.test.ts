import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseMessageIn, parseTransportMessage } from './normalise.js';
import {
  type DeliveryStatusEvent,
  type IncomingMessage,
  type MessageIn,
  MessageInSchema,
  messageInJsonSchema,
  type QrEvent,
  type ReadyEvent,
  TransportMessageSchema,
  transportMessageJsonSchema,
} from './schemas.js';

const seedTransport = {
  tenant: 1,
  channel: 'telegram',
  to: 'me',
  text: 'Привет!',
  attachments: [{ type: 'file', url: 'https://example.org/file.pdf', name: 'file.pdf', mime: 'application/pdf' }],
  meta: { reply_to: '12345' },
};

describe('TransportMessageSchema', () => {
  it("accepts the seed's example and keeps unknown fields", () => {
    const parsed = TransportMessageSchema.parse({ ...seedTransport, extra: { x: 1 } });
    expect(parsed).toMatchObject(seedTransport);
    expect((parsed as Record<string, unknown>).extra).toEqual({ x: 1 });
  });

  it('accepts attachments only, with caption, and a client_msg_id', () => {
    const parsed = TransportMessageSchema.parse({
      tenant: '7',
      channel: 'whatsapp',
      to: '+79991234567',
      attachments: [{ type: 'image', url: 'https://example.org/a.jpg', caption: 'see' }],
      client_msg_id: 'crm-42',
    });
    expect(parsed.tenant).toBe(7);
    expect(parsed.client_msg_id).toBe('crm-42');
  });

  it.each([
    [{ ...seedTransport, text: undefined, attachments: undefined }, 'text'],
    [{ ...seedTransport, text: '   ', attachments: [] }, 'text'],
    [{ ...seedTransport, channel: 'viber' }, 'channel'],
    [{ ...seedTransport, tenant: 0 }, 'tenant'],
    [{ ...seedTransport, tenant: 'abc' }, 'tenant'],
    [{ ...seedTransport, to: '' }, 'to'],
    [{ ...seedTransport, attachments: [{ type: 'file', url: 'file:///etc/passwd' }] }, 'attachments'],
    [{ ...seedTransport, client_msg_id: '' }, 'client_msg_id'],
  ])('rejects %j at %s', (body, path) => {
    const result = TransportMessageSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => String(i.path[0]))).toContain(path);
  });
});

describe('parseTransportMessage', () => {
  it('resolves WhatsApp human input 8XXXXXXXXXX to 7XXXXXXXXXX', () => {
    const result = parseTransportMessage({ tenant: 1, channel: 'whatsapp', to: '8 (999) 123-45-67', text: 'hi' });
    expect(result.ok && result.value.target).toEqual({
      channel: 'whatsapp',
      address: { kind: 'phone', digits: '79991234567', e164: '+79991234567', jid: '79991234567@c.us' },
    });
  });

  it('resolves Telegram and Avito targets', () => {
    const tg = parseTransportMessage({ tenant: 1, channel: 'telegram', to: 100200300, text: 'ping' });
    expect(tg.ok && tg.value.target).toEqual({ channel: 'telegram', target: { kind: 'peer_id', id: '100200300' } });
    const avito = parseTransportMessage({ tenant: 1, channel: 'avito', to: 'u2i-abc~', text: 'x' });
    expect(avito.ok && avito.value.target).toEqual({ channel: 'avito', chatId: 'u2i-abc~' });
  });

  it('answers 422 invalid_payload for a bad recipient or body', () => {
    expect(parseTransportMessage({ tenant: 1, channel: 'whatsapp', to: '12345', text: 'x' })).toMatchObject({
      ok: false,
      status: 422,
      error: 'invalid_payload',
      issues: [{ path: 'to' }],
    });
    expect(parseTransportMessage({ tenant: 1 })).toMatchObject({ ok: false, error: 'invalid_payload' });
  });
});

describe('MessageIn', () => {
  const seedIncoming = {
    event: 'messages.incoming',
    tenant: 1,
    provider: 'whatsapp',
    channel: 'whatsapp',
    message_id: 'wamid.123',
    from: '+79991234567',
    from_jid: '79991234567@c.us',
    text: 'Добрый день',
    ts: 1715683200,
    media: [{ type: 'image', mime_type: 'image/jpeg', url: 'https://example.org/media/1' }],
  };

  it("normalises the seed's WhatsApp example", () => {
    const result = parseMessageIn(seedIncoming);
    expect(result).toEqual({
      ok: true,
      value: { ...seedIncoming, from: '79991234567', from_jid: '79991234567@c.us', peer: '79991234567' },
    });
  });

  it('normalises ts given as ISO-8601 to epoch seconds', () => {
    const result = parseMessageIn({ ...seedIncoming, ts: '2024-05-14T13:40:00+03:00' });
    expect(result.ok && result.value.ts).toBe(1715683200);
  });

  it('fills from/from_jid from each other and maps @s.whatsapp.net to @c.us', () => {
    const onlyFrom = parseMessageIn({ ...seedIncoming, from: '79991234567', from_jid: undefined });
    expect(onlyFrom.ok && onlyFrom.value).toMatchObject({ from: '79991234567', from_jid: '79991234567@c.us' });
    const onlyJid = parseMessageIn({ ...seedIncoming, from: undefined, from_jid: '79991234567@s.whatsapp.net' });
    expect(onlyJid.ok && onlyJid.value).toMatchObject({ from: '79991234567', from_jid: '79991234567@c.us' });
  });

  it('keeps @lid senders opaque: no phone is invented', () => {
    const result = parseMessageIn({ ...seedIncoming, from: undefined, from_jid: '123456789012345@lid' });
    expect(result.ok && result.value).toMatchObject({ from_jid: '123456789012345@lid', peer: '123456789012345@lid' });
    expect(result.ok && result.value.event === 'messages.incoming' && result.value.from).toBeUndefined();
  });

  it('merges attachments into media and accepts media without text', () => {
    const result = parseMessageIn({
      ...seedIncoming,
      text: undefined,
      media: undefined,
      attachments: [{ type: 'image', url: 'whatsapp://7/ABCD', name: 'photo.jpg' }],
    });
    expect(result.ok && result.value).toMatchObject({ media: [{ type: 'image', url: 'whatsapp://7/ABCD' }] });
    expect(result.ok && 'attachments' in result.value).toBe(false);
  });

  it.each([
    [{ ...seedIncoming, text: undefined, media: [] }, 'text'],
    [{ ...seedIncoming, from: undefined, from_jid: undefined }, 'from'],
    [{ ...seedIncoming, from: 'garbage', from_jid: undefined }, 'from'],
    [{ ...seedIncoming, ts: 'yesterday' }, 'ts'],
    [{ ...seedIncoming, message_id: undefined }, 'message_id'],
    [{ ...seedIncoming, event: 'messages.unknown' }, 'event'],
  ])('rejects %j (422 invalid_payload)', (body, path) => {
    const result = parseMessageIn(body);
    expect(result).toMatchObject({ ok: false, status: 422, error: 'invalid_payload' });
    expect(!result.ok && result.issues.map((i) => i.path.split('.')[0])).toContain(path);
  });

  it('fills Telegram peer from telegram_user_id', () => {
    const result = parseMessageIn({
      event: 'messages.incoming',
      tenant: 1,
      channel: 'telegram',
      message_id: 77,
      telegram_user_id: 555,
      text: 'hi',
      ts: 1715683200,
      meta: { reply_to: 12 },
    });
    expect(result.ok && result.value).toMatchObject({
      provider: 'telegram',
      message_id: '77',
      telegram_user_id: '555',
      peer: '555',
      meta: { reply_to: '12' },
    });
  });

  it('accepts qr with svg and answers invalid_qr without it', () => {
    const qr = {
      provider: 'whatsapp',
      event: 'qr',
      tenant: 1,
      qr_id: '1715940000000',
      svg: '<?xml version="1.0"?><svg/>',
    };
    expect(parseMessageIn(qr)).toMatchObject({ ok: true, value: { event: 'qr', qr_id: '1715940000000' } });
    expect(parseMessageIn({ ...qr, svg: '' })).toMatchObject({ ok: false, status: 422, error: 'invalid_qr' });
    expect(parseMessageIn({ ...qr, svg: undefined })).toMatchObject({ ok: false, error: 'invalid_qr' });
  });

  it('a ready event keeps only its known fields (it is stored as-is)', () => {
    const body = JSON.parse(
      '{"event":"ready","tenant":7,"channel":"whatsapp","state":"open","constructor":{"prototype":{"x":1}},"__proto__":{"y":2},"extra":"z"}',
    );
    const parsed = parseMessageIn(body);
    expect(parsed.ok).toBe(true);
    const value = (parsed as { value: Record<string, unknown> }).value;
    expect(Object.keys(value).sort()).toEqual(['channel', 'event', 'provider', 'state', 'tenant']);
    expect(Object.hasOwn(value, 'constructor')).toBe(false);
    expect(JSON.stringify(value)).not.toContain('prototype');
  });

  it('accepts ready and delivery-status events', () => {
    expect(parseMessageIn({ event: 'ready', tenant: 7, channel: 'whatsapp' })).toMatchObject({
      ok: true,
      value: { event: 'ready', provider: 'whatsapp' },
    });
    const status = parseMessageIn({
      event: 'messages.status',
      tenant: 7,
      channel: 'whatsapp',
      message_id: 'wamid.1',
      status: 'delivered',
      ts: '2024-05-14T10:40:00Z',
    });
    expect(status).toMatchObject({ ok: true, value: { status: 'delivered', ts: 1715683200 } });
    expect(
      parseMessageIn({
        event: 'messages.status',
        tenant: 7,
        channel: 'whatsapp',
        message_id: 'x',
        status: 'seen',
        ts: 1,
      }),
    ).toMatchObject({ ok: false });
  });

  it('MessageInSchema parses directly with ts normalised', () => {
    expect(MessageInSchema.parse({ ...seedIncoming, ts: '1715683200' }).ts).toBe(1715683200);
  });
});

describe('JSON Schema export', () => {
  it('describes TransportMessage inputs', () => {
    const schema = transportMessageJsonSchema() as {
      $id: string;
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(schema.$id).toContain('/v1/transport-message.json');
    expect(schema.required).toEqual(expect.arrayContaining(['tenant', 'channel', 'to']));
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['tenant', 'channel', 'to', 'text', 'attachments', 'meta', 'client_msg_id']),
    );
  });

  it('describes every MessageIn event', () => {
    const text = JSON.stringify(messageInJsonSchema());
    for (const event of ['messages.incoming', 'qr', 'ready', 'messages.status']) expect(text).toContain(`"${event}"`);
    expect(text).toContain('"from_jid"');
  });
});

describe('the named MessageIn members', () => {
  it('are the MessageIn members they name, assignable both ways', () => {
    expectTypeOf<IncomingMessage>().toEqualTypeOf<Extract<MessageIn, { event: 'messages.incoming' }>>();
    expectTypeOf<QrEvent>().toEqualTypeOf<Extract<MessageIn, { event: 'qr' }>>();
    expectTypeOf<ReadyEvent>().toEqualTypeOf<Extract<MessageIn, { event: 'ready' }>>();
    expectTypeOf<DeliveryStatusEvent>().toEqualTypeOf<Extract<MessageIn, { event: 'messages.status' }>>();
    expectTypeOf<IncomingMessage | QrEvent | ReadyEvent | DeliveryStatusEvent>().toEqualTypeOf<MessageIn>();
    expectTypeOf<MessageIn>().toExtend<IncomingMessage | QrEvent | ReadyEvent | DeliveryStatusEvent>();
    expectTypeOf<IncomingMessage>().toExtend<MessageIn>();
  });

  it('narrow a parsed MessageIn by event', () => {
    const parsed = MessageInSchema.parse({ event: 'qr', tenant: 1, qr_id: 'q1', svg: '<svg/>' });
    if (parsed.event === 'qr') {
      const qr: QrEvent = parsed;
      expect(qr.qr_id).toBe('q1');
    }
    const asUnion: MessageIn = { event: 'ready', tenant: 1 } satisfies ReadyEvent;
    expect(asUnion.event).toBe('ready');
  });
});
