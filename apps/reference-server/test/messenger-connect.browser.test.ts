import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeAvito, createFakeWhatsAppWeb } from '@callbridge/messenger-contract/testing';
import { setupServer } from 'msw/node';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testEnv } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ACCOUNT_ID = 400040070;

describe.skipIf(!existsSync(CHROMIUM))('connect pages in chromium', () => {
  const wa = createFakeWhatsAppWeb({ tenants: [4] });
  const avito = createFakeAvito();
  const msw = setupServer(...wa.handlers, ...avito.handlers);
  let srv: RunningServer;
  let browser: Browser;
  let key: string;
  /** Avito's consent page, over real HTTP (the browser cannot see msw): "Allow" sends the user back with a code. */
  let consent: Server;
  let consentUrl: string;
  const authorizeRequests: URL[] = [];

  const admin = { 'x-admin-token': testEnv.ADMIN_TOKEN, 'content-type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(srv.url + path, {
      method,
      headers: admin,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    consent = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://consent.test');
      authorizeRequests.push(url);
      const back = new URL('/connect/avito/callback', srv.url);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (url.searchParams.get('deny') === '1') back.searchParams.set('error', 'access_denied');
      else back.searchParams.set('code', avito.issueCode(ACCOUNT_ID));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Avito</title><a id="allow" href="${back.toString()}">Разрешить</a>`);
    });
    await new Promise<void>((resolve) => consent.listen(0, '127.0.0.1', resolve));
    consentUrl = `http://127.0.0.1:${(consent.address() as AddressInfo).port}/oauth`;
    srv = await startServer({
      config: loadConfig({
        ...testEnv,
        PORT: '0',
        HOST: '127.0.0.1',
        PUBLIC_KEY: 'public-key-connect-0123456789',
        WAWEB_URL_TEMPLATE: 'http://waweb-{tenant}.test:9001',
        WAWEB_ADMIN_TOKEN: wa.authToken,
        AVITO_CLIENT_ID: avito.clientId,
        AVITO_CLIENT_SECRET: avito.clientSecret,
        AVITO_AUTH_URL: consentUrl,
        APP_BASE_URL: 'http://hub.test',
      }),
      logger: createLogger('silent'),
      inMemory: true,
    });
    key = (await api('GET', '/admin/key/get?tenant=4')).key as string;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    msw.close();
    await srv?.close();
    await new Promise((resolve) => consent?.close(resolve));
  });

  it('/connect/wa shows the cached QR, then the connected state once the phone scanned it', async () => {
    // The worker's `qr` webhook fills the cache the page reads.
    const token = (await api('GET', '/admin/provider-token/4')).provider_token as string;
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="264" height="264"><rect width="264" height="264" fill="#000"/></svg>';
    const qr = await fetch(`${srv.url}/webhook?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'whatsapp', event: 'qr', tenant: 4, qr_id: 'qr-1', svg }),
    });
    expect(qr.status).toBe(200);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${srv.url}/connect/wa?tenant=4&k=${encodeURIComponent(key)}`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Подключение WhatsApp');
    // A string: evaluated in the page (the test's tsconfig has no DOM types).
    await page.waitForFunction(
      'document.getElementById("qr") && !document.getElementById("qr").hidden && document.getElementById("qr").complete && document.getElementById("qr").naturalWidth === 264',
    );
    expect(await page.getAttribute('#qr', 'src')).toContain('qr_id=qr-1');
    await page.waitForSelector('#state[data-state="qr"]');

    wa.scan(4);
    await page.waitForSelector('#state[data-state="ready"]', { timeout: 15_000 });
    expect(await page.textContent('#state')).toBe('подключено');
    expect(await page.isHidden('#qr')).toBe(true);
    expect(errors).toEqual([]);

    // Another tenant's key does not open tenant 4; no key is a 401 page, not a JSON error.
    const other = (await api('GET', '/admin/key/get?tenant=5')).key as string;
    const refused = await page.goto(`${srv.url}/connect/wa?tenant=4&k=${encodeURIComponent(other)}`);
    expect(refused?.status()).toBe(401);
    expect(await page.textContent('#code')).toBe('invalid_key');
    await page.close();
  });

  it('/connect/avito runs the authorization-code flow: consent at Avito, callback with a checked state', async () => {
    const page = await browser.newPage();
    await page.goto(`${srv.url}/connect/avito?tenant=4&k=${encodeURIComponent(key)}`);
    const href = (await page.getAttribute('#authorize', 'href')) as string;
    const authorize = new URL(href);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(consentUrl);
    expect(Object.fromEntries(authorize.searchParams)).toEqual({
      response_type: 'code',
      client_id: avito.clientId,
      scope: 'messenger:read,messenger:write,user:read',
      state: expect.stringMatching(/^[\w-]{43}$/),
    });
    await page.click('#authorize');
    await page.waitForSelector('#allow');
    await page.click('#allow');
    await page.waitForSelector('#code');
    expect(await page.textContent('#code')).toBe('connected');
    expect(await page.textContent('#message')).toContain(String(ACCOUNT_ID));
    // Tokens stored, webhook subscribed, auto-reply switched on (the seed's behaviour after OAuth).
    expect(avito.subscriptionsOf(ACCOUNT_ID)[0]).toMatch(/^http:\/\/hub\.test\/webhook\/avito\/4\?token=/);
    expect(await api('GET', '/admin/auto-reply/4')).toMatchObject({ enabled: true });

    // The same callback again (a replayed state) is refused.
    const replay = await page.goto(page.url());
    expect(replay?.status()).toBe(400);
    expect(await page.textContent('#code')).toBe('invalid_state');
    await page.close();
  });

  it('refuses a callback whose state was issued to another browser, and a denied consent', async () => {
    const victim = await browser.newContext();
    const attacker = await browser.newContext();
    const a = await attacker.newPage();
    await a.goto(`${srv.url}/connect/avito?tenant=4&k=${encodeURIComponent(key)}`);
    const state = new URL((await a.getAttribute('#authorize', 'href')) as string).searchParams.get('state') as string;
    // The attacker's state and code, opened in the victim's browser (no matching cookie there).
    const v = await victim.newPage();
    const forged = await v.goto(`${srv.url}/connect/avito/callback?state=${state}&code=${avito.issueCode(ACCOUNT_ID)}`);
    expect(forged?.status()).toBe(400);
    expect(await v.textContent('#code')).toBe('invalid_state');

    const p = await victim.newPage();
    await p.goto(`${srv.url}/connect/avito?tenant=4&k=${encodeURIComponent(key)}`);
    const deny = new URL((await p.getAttribute('#authorize', 'href')) as string);
    deny.searchParams.set('deny', '1');
    await p.goto(deny.toString());
    await p.click('#allow');
    await p.waitForSelector('#code');
    expect(await p.textContent('#code')).toBe('access_denied');
    await victim.close();
    await attacker.close();
  });
});
