import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { DEFAULT_PERSONA_RU } from '../src/messenger/persona.js';
import { GENERATION_PARAMETERS } from '../src/messenger/reply-model.js';
import { adminHeaders, messengerHub } from './support/messenger-hub.js';

/** Persona admin API and the auto-reply through the OpenAI-compatible adapter, against an msw chat-completions fake. */
const LLM_URL = 'https://llm.test/v1';
const LLM_KEY = 'sk-test-secret-key-0123456789';

interface CompletionRequest {
  model: string;
  messages: { role: string; content: string }[];
  [key: string]: unknown;
}
const completions: CompletionRequest[] = [];
let llmStatus = 200;
const llm = http.post(`${LLM_URL}/chat/completions`, async ({ request }) => {
  // What the real API enforces: the bearer key and a JSON body with model and messages.
  if (request.headers.get('authorization') !== `Bearer ${LLM_KEY}`) {
    return HttpResponse.json({ error: { message: 'Incorrect API key provided' } }, { status: 401 });
  }
  const body = (await request.json()) as CompletionRequest;
  if (typeof body.model !== 'string' || !Array.isArray(body.messages)) {
    return HttpResponse.json({ error: { message: 'bad request' } }, { status: 400 });
  }
  completions.push(body);
  if (llmStatus !== 200) return HttpResponse.json({ error: { message: 'overloaded' } }, { status: llmStatus });
  const last = body.messages.at(-1)?.content ?? '';
  return HttpResponse.json({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: ` Ответ на: ${last} ` }, finish_reason: 'stop' }],
  });
});
const logLines: string[] = [];
const hub = messengerHub({
  tenants: [1, 2],
  handlers: [llm],
  env: {
    // 79990000002 is not allowed: its replies must be stopped by the outbox guard.
    OUTBOX_WHITELIST: '+79991111111 +79992222222',
    OPENAI_BASE_URL: LLM_URL,
    OPENAI_MODEL: 'gpt-test-mini',
    OPENAI_API_KEY: LLM_KEY,
    LOG_LEVEL: 'info',
  },
  logger: createLogger('info', { write: (line: string) => void logLines.push(line) }),
});
const { wa, tokens, call } = hub;
const admin = adminHeaders;
const inbound = (tenant: number, id: string, from: string, text: string) =>
  call('POST', `/webhook?token=${tokens[tenant]}`, {
    event: 'messages.incoming',
    tenant,
    channel: 'whatsapp',
    message_id: id,
    from,
    text,
    ts: 1716748800,
  });
const settled = () => hub.server().messenger.autoReplier.idle();

beforeAll(() => hub.start(), 120_000);
afterAll(() => hub.stop());

describe('persona', () => {
  it('serves the default with empty placeholders, then the tenant passport, links and override', async () => {
    const initial = await call('GET', '/admin/persona/1', undefined, admin);
    expect(initial.data).toMatchObject({ ok: true, source: 'default', template: DEFAULT_PERSONA_RU, channel: null });
    const rendered = initial.data.rendered as string;
    expect(rendered).toContain('в WhatsApp.'); // {CHANNEL} fallback
    expect(rendered).toContain('Цены называй в ₽.');
    expect(rendered).toContain('предложи каталог: \n'); // {CATALOG_URL} unset -> empty
    expect(rendered).not.toMatch(/\{[A-Z_]+\}/);

    const saved = await call(
      'PUT',
      '/admin/persona/1?channel=telegram',
      {
        passport: { agent_name: 'Алина', brand: 'Цветы у дома', city: 'Казань' },
        whatsapp_link: 'https://wa.me/79991111111',
        catalog_url: 'https://shop.example/catalog',
      },
      admin,
    );
    expect(saved.data).toMatchObject({
      source: 'default',
      passport: { agent_name: 'Алина', brand: 'Цветы у дома', city: 'Казань' },
      catalog_url: 'https://shop.example/catalog',
    });
    expect(saved.data.rendered).toContain('Ты — Алина, консультант магазина «Цветы у дома» (Казань)');
    expect(saved.data.rendered).toContain('с клиентом в Telegram.');
    expect(saved.data.rendered).toContain('каталог: https://shop.example/catalog');

    const own = await call(
      'PUT',
      '/admin/persona/1',
      { template: '{AGENT_NAME} из {BRAND}, {CHANNEL}. Каталог: {CATALOG_URL}. {UNKNOWN}' },
      admin,
    );
    expect(own.data).toMatchObject({
      source: 'tenant',
      rendered: 'Алина из Цветы у дома, WhatsApp. Каталог: https://shop.example/catalog. {UNKNOWN}',
    });
    // Tenant 2 still has the default and none of tenant 1's passport.
    const other = await call('GET', '/admin/persona/2?channel=avito', undefined, admin);
    expect(other.data).toMatchObject({ source: 'default', passport: { brand: null } });
    expect(other.data.rendered).toContain('с клиентом в Avito.');
    // Links can be cleared again; a bad body is a 422 with the field named.
    const cleared = await call('PUT', '/admin/persona/1', { catalog_url: '' }, admin);
    expect(cleared.data.rendered).toBe('Алина из Цветы у дома, WhatsApp. Каталог: . {UNKNOWN}');
    const bad = await call('PUT', '/admin/persona/1', { catalog_url: 'javascript:alert(1)', extra: 1 }, admin);
    expect(bad.status).toBe(422);
    expect(bad.data.error).toBe('invalid_payload');
    expect((await call('PUT', '/admin/persona/1', { template: null }, admin)).data.source).toBe('default');
    expect((await call('GET', '/admin/persona/1')).status).toBe(401);
  });
});

describe('auto-reply', () => {
  it('is off per tenant until switched on; then answers with the persona and the seed parameters', async () => {
    expect((await call('GET', '/admin/auto-reply/1', undefined, admin)).data).toEqual({
      ok: true,
      tenant: 1,
      enabled: false,
      configured: true,
    });
    await inbound(1, 'm-1', '79991111111', 'Сколько стоят розы?');
    await settled();
    expect(completions).toEqual([]);
    expect(wa.sent).toEqual([]);

    const on = await call('PUT', '/admin/auto-reply/1', { enabled: true }, admin);
    expect(on.data).toMatchObject({ enabled: true, configured: true });
    await call('PUT', '/admin/persona/1', { template: 'Ты {AGENT_NAME} в {CHANNEL}.' }, admin);
    await inbound(1, 'm-2', '79991111111', 'А тюльпаны?');
    await settled();
    expect(completions).toHaveLength(1);
    const request = completions[0] as CompletionRequest;
    expect(request).toMatchObject({ model: 'gpt-test-mini', ...GENERATION_PARAMETERS });
    // The lead's conversation so far, the persona as the system prompt.
    expect(request.messages).toEqual([
      { role: 'system', content: 'Ты Алина в WhatsApp.' },
      { role: 'user', content: 'Сколько стоят розы?' },
      { role: 'user', content: 'А тюльпаны?' },
    ]);
    expect(wa.sent).toEqual([
      expect.objectContaining({ container: 1, to: '79991111111@c.us', text: 'Ответ на: А тюльпаны?' }),
    ]);
    // The reply is part of the lead's conversation, and the next prompt includes it.
    await inbound(1, 'm-3', '79991111111', 'Спасибо');
    await settled();
    expect(completions.at(-1)?.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'Ответ на: А тюльпаны?' },
      { role: 'user', content: 'Спасибо' },
    ]);
    expect(wa.sent).toHaveLength(2);
    // Tenant 2 is untouched by tenant 1's switch.
    await inbound(2, 'm-2-1', '79991111111', 'Привет');
    await settled();
    expect(completions).toHaveLength(2);
  });

  it('replies pass the same outbox guards as /send; a failing model sends nothing; the key is never logged', async () => {
    const before = wa.sent.length;
    await inbound(1, 'm-4', '79990000002', 'Я не в белом списке');
    await settled();
    expect(completions.at(-1)?.messages.at(-1)).toEqual({ role: 'user', content: 'Я не в белом списке' });
    expect(wa.sent).toHaveLength(before);
    expect(logLines.join('')).toMatch(/"event":"smart_reply_enqueued".*"result":"not_whitelisted"/);

    llmStatus = 503;
    await inbound(1, 'm-5', '79992222222', 'Ещё вопрос');
    await settled();
    llmStatus = 200;
    expect(wa.sent).toHaveLength(before);
    expect(logLines.join('')).toMatch(/"event":"smart_reply_failed".*"code":"llm_unavailable"/);

    // The webhook answer never waits for the model, and a repeated webhook does not answer twice.
    await inbound(1, 'm-6', '79992222222', 'Последний');
    await inbound(1, 'm-6', '79992222222', 'Последний');
    await settled();
    expect(wa.sent.filter((m) => m.text === 'Ответ на: Последний')).toHaveLength(1);
    expect(logLines.join('')).not.toContain(LLM_KEY);
    expect(logLines.length).toBeGreaterThan(0);
  });

  it('switching off stops the answers; the switch refuses bad bodies', async () => {
    expect((await call('PUT', '/admin/auto-reply/1', { enabled: 'yes' }, admin)).status).toBe(422);
    await call('PUT', '/admin/auto-reply/1', { enabled: false }, admin);
    const count = completions.length;
    await inbound(1, 'm-7', '79991111111', 'Ау?');
    await settled();
    expect(completions).toHaveLength(count);
  });
});
