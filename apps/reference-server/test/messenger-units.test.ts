import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { redactUrl } from '../src/logger.js';
import { MemoryInboxQueue, MemoryQrCache } from '../src/messenger/queues.js';
import { buildOpenApi } from '../src/openapi.js';
import { testEnv } from './helpers.js';

describe('messenger configuration', () => {
  it('has safe defaults: outbox off, deny-all whitelist, seed worker URLs', () => {
    const { messenger } = loadConfig({ ...testEnv });
    expect(messenger).toMatchObject({
      outboxEnabled: false,
      outboxWhitelist: '',
      publicKey: undefined,
      tgworkerBaseUrl: 'http://tgworker:9000',
      wawebUrlTemplate: 'http://waweb-{tenant}:9001',
      avito: undefined,
      maxUploadSizeBytes: 20 * 1024 * 1024,
    });
  });

  it('names every bad variable and never echoes a value', () => {
    const bad = () =>
      loadConfig({
        ...testEnv,
        OUTBOX_ENABLED: 'maybe',
        WAWEB_URL_TEMPLATE: 'http://waweb:9001',
        MAX_UPLOAD_SIZE_BYTES: '-1',
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/OUTBOX_ENABLED/);
      expect(issues).toMatch(/WAWEB_URL_TEMPLATE/);
      expect(issues).toMatch(/MAX_UPLOAD_SIZE_BYTES/);
    }
  });

  it('refuses PUBLIC_KEY equal to ADMIN_TOKEN and half an Avito app', () => {
    expect(() => loadConfig({ ...testEnv, PUBLIC_KEY: testEnv.ADMIN_TOKEN })).toThrow(/PUBLIC_KEY/);
    try {
      loadConfig({ ...testEnv, PUBLIC_KEY: testEnv.ADMIN_TOKEN });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(testEnv.ADMIN_TOKEN);
    }
    expect(() => loadConfig({ ...testEnv, AVITO_CLIENT_ID: 'id' })).toThrow(/AVITO_CLIENT_SECRET/);
    expect(loadConfig({ ...testEnv, OUTBOX_ENABLED: 'yes' }).messenger.outboxEnabled).toBe(true);
  });
});

describe('memory queues', () => {
  it('keeps WhatsApp QR codes for 180 s (injected clock), latest per tenant', async () => {
    let now = 1_000_000;
    const cache = new MemoryQrCache(() => now);
    await cache.put(1, 'a', '<svg a/>');
    await cache.put(1, 'b', '<svg b/>');
    await cache.put(2, 'c', '<svg c/>');
    expect(await cache.get(1)).toEqual({ qrId: 'b', svg: '<svg b/>' });
    expect(await cache.get(1, 'a')).toEqual({ qrId: 'a', svg: '<svg a/>' });
    expect(await cache.get(2, 'b')).toBeUndefined();
    now += 179_999;
    expect(await cache.get(1)).toBeDefined();
    now += 1;
    expect(await cache.get(1)).toBeUndefined();
    expect(await cache.get(1, 'a')).toBeUndefined();
  });

  it('the memory inbox is bounded and newest first (like LPUSH)', async () => {
    const q = new MemoryInboxQueue(2);
    for (const id of ['1', '2', '3']) {
      await q.push({ event: 'ready', tenant: Number(id) });
    }
    expect(q.items.map((e) => e.tenant)).toEqual([3, 2]);
    expect(await q.length()).toBe(2);
  });
});

describe('OpenAPI', () => {
  it('documents the messenger routes with the contract schemas', () => {
    const doc = buildOpenApi('http://x') as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Json }> } }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    type Json = { properties?: Record<string, unknown> };
    for (const p of [
      '/send',
      '/webhook',
      '/webhook/avito',
      '/pub/tg/qr.png',
      '/pub/catalog/upload',
      '/admin/key/get',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const send = doc.paths['/send']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(send?.properties ?? {})).toEqual(
      expect.arrayContaining(['tenant', 'channel', 'to', 'text', 'client_msg_id']),
    );
    expect(doc.components.securitySchemes.publicKey).toBeDefined();
  });
});

describe('request log redaction', () => {
  it('hides ?k= (public / tenant key) and ?token= (provider token) values', () => {
    const line = redactUrl('/pub/tg/status?tenant=1&k=public-secret-1&x=1');
    expect(line).toBe('/pub/tg/status?tenant=1&k=[redacted]&x=1');
    expect(redactUrl('/webhook?token=abc&kk=1')).toBe('/webhook?token=[redacted]&kk=1');
  });
});
