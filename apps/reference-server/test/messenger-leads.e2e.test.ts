import { avitoMessageWebhook, createFakeAvito } from '@callbridge/messenger-contract/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminHeaders, type Json, messengerHub } from './support/messenger-hub.js';

/** Contacts and leads end to end: inbound webhooks file people, `/send` needs a lead (seed: `err:no_lead`). */
const avito = createFakeAvito();
const hub = messengerHub({
  tenants: [1, 2],
  handlers: avito.handlers,
  env: {
    OUTBOX_WHITELIST: '*',
    APP_BASE_URL: 'http://hub.test',
    AVITO_CLIENT_ID: avito.clientId,
    AVITO_CLIENT_SECRET: avito.clientSecret,
  },
});
const { tg, wa, tokens, call } = hub;
const admin = adminHeaders;
const send = (body: Json) => call('POST', '/send', body, admin);
const whatsappIn = (tenant: number, id: string, from: string, text = 'Здравствуйте') =>
  call('POST', `/webhook?token=${tokens[tenant]}`, {
    event: 'messages.incoming',
    tenant,
    channel: 'whatsapp',
    message_id: id,
    from,
    text,
    ts: 1716748800,
  });
const telegramIn = (tenant: number, id: string, userId: number, text: string, username?: string) =>
  call('POST', `/webhook/telegram?token=${tokens[tenant]}`, {
    tenant,
    message_id: id,
    telegram_user_id: userId,
    ...(username ? { username } : {}),
    text,
    ts: 1716748800,
  });
const avitoIn = (tenant: number, id: string, authorId: number, chatId: string, text: string) =>
  call(
    'POST',
    `/webhook/avito/${tenant}?token=${tokens[tenant]}`,
    avitoMessageWebhook({ userId: 400040070, authorId, chatId, id, text }),
  );

interface ContactJson {
  id: number;
  whatsapp_phone?: string;
  avito_user_id?: string;
  telegram_user_id?: string;
  telegram_username?: string;
  leads: { id: number; channel: string; peers: string[] }[];
}
const contactsOf = async (tenant: number, headers: Record<string, string> = admin) => {
  const r = await call('GET', `/admin/contacts?tenant=${tenant}`, undefined, headers);
  expect(r.status).toBe(200);
  return r.data.contacts as ContactJson[];
};

beforeAll(() => hub.start(), 120_000);
afterAll(() => hub.stop());

describe('contacts and leads', () => {
  it('refuses a send to someone without a lead with err:no_lead and delivers nothing', async () => {
    const r = await send({ tenant: 1, channel: 'whatsapp', to: '+79991234567', text: 'hi' });
    expect(r).toEqual({ status: 404, data: { ok: false, error: 'err:no_lead' } });
    const tgNoLead = await send({ tenant: 1, channel: 'telegram', to: 100200300, text: 'hi' });
    expect(tgNoLead.data.error).toBe('err:no_lead');
    expect(wa.sent).toEqual([]);
    expect(tg.sent).toEqual([]);
    // "me" is the account itself: no lead involved.
    expect((await send({ tenant: 1, channel: 'telegram', to: 'me', text: 'note' })).status).toBe(200);
  });

  it('an inbound WhatsApp message creates the contact and its lead; then /send delivers and is filed', async () => {
    expect((await whatsappIn(1, 'wa-1', '79991234567')).data).toEqual({ ok: true, queued: true });
    const [contact, ...rest] = await contactsOf(1);
    expect(rest).toEqual([]);
    expect(contact).toMatchObject({
      whatsapp_phone: '79991234567',
      leads: [{ channel: 'whatsapp', peers: ['79991234567'] }],
    });
    // The stored webhook event points at them.
    const events = (await call('GET', '/admin/messenger/events?tenant=1', undefined, admin)).data.events as Json[];
    expect(events[0]).toMatchObject({ messageId: 'wa-1' });
    const lead = contact?.leads[0]?.id as number;

    // 8XXX, +7 and the JID all find the same lead.
    for (const to of ['89991234567', '+7 999 123-45-67', '79991234567@c.us']) {
      expect(await send({ tenant: 1, channel: 'whatsapp', to, text: `to ${to}` })).toMatchObject({
        status: 200,
        data: { ok: true },
      });
    }
    expect(wa.sent).toHaveLength(3);
    const conversation = await call('GET', `/admin/leads/${lead}/messages?tenant=1`, undefined, admin);
    expect((conversation.data.messages as Json[]).map((m) => [m.direction, m.source, m.text])).toEqual([
      ['in', 'webhook', 'Здравствуйте'],
      ['out', 'send', 'to 89991234567'],
      ['out', 'send', 'to +7 999 123-45-67'],
      ['out', 'send', 'to 79991234567@c.us'],
    ]);
  });

  it('an Avito chat that reveals the phone joins the same contact, with its own lead per channel', async () => {
    const r = await avitoIn(1, 'av-1', 555001, 'chat-a1', 'Напишите мне в WhatsApp: 8 (999) 123-45-67');
    expect(r.data).toEqual({ ok: true, queued: true });
    const contacts = await contactsOf(1);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      whatsapp_phone: '79991234567',
      avito_user_id: '555001',
      leads: [
        { channel: 'whatsapp', peers: ['79991234567'] },
        { channel: 'avito', peers: ['chat-a1'] },
      ],
    });
  });

  it('two contacts known separately are merged when a later message shows they are one person', async () => {
    // First a Telegram user nobody links to the WhatsApp contact yet.
    await telegramIn(1, 'tg-1', 700700, 'Привет', 'Anna_K');
    let contacts = await contactsOf(1);
    expect(contacts).toHaveLength(2);
    const telegramContact = contacts.find((c) => c.telegram_user_id === '700700') as ContactJson;
    expect(telegramContact).toMatchObject({ telegram_username: 'anna_k', leads: [{ channel: 'telegram' }] });
    expect((await send({ tenant: 1, channel: 'telegram', to: '@anna_k', text: 'by username' })).status).toBe(200);

    // Then the same Telegram user writes the phone the WhatsApp contact has.
    await telegramIn(1, 'tg-2', 700700, 'мой номер +79991234567');
    contacts = await contactsOf(1);
    expect(contacts).toHaveLength(1);
    const [merged] = contacts as [ContactJson];
    expect(merged).toMatchObject({
      whatsapp_phone: '79991234567',
      avito_user_id: '555001',
      telegram_user_id: '700700',
      telegram_username: 'anna_k',
    });
    expect(merged.leads.map((l) => l.channel)).toEqual(['whatsapp', 'avito', 'telegram']);
    // The older contact survives; the merged one answers where it went.
    expect(merged.id).toBeLessThan(telegramContact.id);
    const gone = await call('GET', `/admin/contacts/${telegramContact.id}?tenant=1`, undefined, admin);
    expect(gone).toEqual({ status: 404, data: { ok: false, error: 'contact_not_found', merged_into: merged.id } });
    // The Telegram lead kept its conversation (both inbound messages and the reply).
    const tgLead = merged.leads.find((l) => l.channel === 'telegram') as { id: number };
    const messages = await call('GET', `/admin/leads/${tgLead.id}/messages?tenant=1`, undefined, admin);
    expect((messages.data.messages as Json[]).map((m) => m.text)).toEqual([
      'Привет',
      'by username',
      'мой номер +79991234567',
    ]);
    expect((await send({ tenant: 1, channel: 'telegram', to: 700700, text: 'still reachable' })).status).toBe(200);
  });

  it('keeps tenants apart: the same phone is another contact, and one tenant key never opens another tenant', async () => {
    await whatsappIn(2, 'wa-2-1', '79991234567', 'Добрый день');
    const two = await contactsOf(2);
    expect(two).toHaveLength(1);
    expect(two[0]?.avito_user_id).toBeUndefined();
    const oneId = (await contactsOf(1))[0]?.id as number;
    expect((await call('GET', `/admin/contacts/${oneId}?tenant=2`, undefined, admin)).status).toBe(404);
    const twoLead = two[0]?.leads[0]?.id as number;
    expect((await call('GET', `/admin/leads/${twoLead}/messages?tenant=1`, undefined, admin)).status).toBe(404);
    // Tenant 1's Avito person is not tenant 2's lead.
    expect((await send({ tenant: 2, channel: 'avito', to: 'chat-a1', text: 'x' })).data.error).toBe('err:no_lead');

    const key1 = (await call('GET', '/admin/key/get?tenant=1', undefined, admin)).data.key as string;
    expect(await contactsOf(1, { 'x-tenant-key': key1 })).toHaveLength(1);
    expect((await call('GET', `/admin/contacts?tenant=2&k=${key1}`)).status).toBe(401);
    expect((await call('GET', `/admin/contacts/${oneId}?tenant=2`, undefined, { 'x-tenant-key': key1 })).status).toBe(
      401,
    );
    expect((await call('GET', '/admin/contacts?tenant=1')).status).toBe(401);
    expect((await call('GET', '/admin/contacts?tenant=x', undefined, admin)).status).toBe(422);
  });

  it('offline mode: when the lead store cannot answer, the send goes out with the err:no_lead warning', async () => {
    const spy = vi
      .spyOn(hub.server().messenger.contacts, 'findLead')
      .mockRejectedValueOnce(new Error('connection refused'));
    const before = wa.sent.length;
    const r = await send({ tenant: 2, channel: 'whatsapp', to: '+79990000001', text: 'degraded' });
    expect(r).toMatchObject({ status: 200, data: { ok: true, warnings: ['err:no_lead'] } });
    expect(wa.sent).toHaveLength(before + 1);
    spy.mockRestore();
    // With the store back, the same unknown recipient is refused again.
    expect((await send({ tenant: 2, channel: 'whatsapp', to: '+79990000001', text: 'x' })).status).toBe(404);
  });
});
