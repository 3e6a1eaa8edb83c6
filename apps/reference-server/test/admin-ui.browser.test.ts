import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { DELIVERY_QUEUE } from '../src/telephony.js';
import { testClientFactory, testEnv } from './helpers.js';
import { insertCallLogs } from './support/integration-logs.js';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every flow (gitignored): open them to see what the tests saw. */
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/admin-ui/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TIME_ZONE = 'Europe/Moscow';
const ADMIN = testEnv.ADMIN_TOKEN;
type Lang = 'en' | 'ru';

// Page-side scripts are plain JavaScript strings: they run in Chromium (DOM), not in this (Node) program.
const AXE_RUN = `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
  id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))`;
const LITERAL_TEXT_CHECK = `(() => {
  const i18n = window.__i18n;
  const bad = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = (node.textContent || '').trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style')) continue;
    if (!el.closest('[data-i18n], [data-dynamic]')) bad.push('literal: ' + text);
  }
  for (const el of document.querySelectorAll('[data-i18n]')) {
    const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
    const expected = i18n.t(el.dataset.i18n, args);
    if (el.textContent !== expected) bad.push('stale ' + el.dataset.i18n + ': ' + el.textContent + ' != ' + expected);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
    if (!el.dataset.i18nAttr) bad.push('attribute without key on ' + el.outerHTML.slice(0, 80));
  }
  return bad;
})()`;
const sessionToken = (page: Page) => page.evaluate("sessionStorage.getItem('cb_token')") as Promise<string | null>;
const validity = (page: Page, selector: string) =>
  page.$eval(selector, (e) => {
    // ValidityState does not serialise: copy the two flags out.
    const v = (e as unknown as { validity: { valid: boolean; patternMismatch: boolean } }).validity;
    return { valid: v.valid, patternMismatch: v.patternMismatch };
  });
const titled = (page: Page) => expect.poll(() => page.title()).toMatch(/^Flower Shop/);

// Generous timeouts: a real browser and database on a shared 2-core machine.
describe.skipIf(!existsSync(CHROMIUM))('admin UI in chromium', { timeout: 120_000 }, () => {
  const fake = createFakeRetailCrm({
    rateLimit: false,
    users: [
      { id: 18, firstName: 'Anna', lastName: 'Petrova' },
      { id: 19, firstName: 'Boris', lastName: 'Ivanov' },
    ],
  });
  const msw = setupServer(...fake.handlers);
  let srv: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const api = async (method: string, path: string, token = ADMIN, body?: unknown) => {
    const res = await fetch(`${srv.url}/api/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected ad hoc in assertions
    return { status: res.status, data: (await res.json()) as Record<string, any> };
  };
  /** Registers again and returns the fresh account link, pointed at the test server. */
  const freshLink = async () => {
    const reg = await api('POST', 'register/0367');
    expect(reg.status).toBe(200);
    const link = new URL(reg.data.account_url);
    return { url: `${srv.url}${link.pathname}${link.search}`, token: link.searchParams.get('token') as string };
  };
  const stored = async () =>
    (await srv.storage.getEnterprise('0367'))?.integrationsConfig.retailcrm as {
      user_extensions: Record<string, string | null>;
      events: Record<string, boolean>;
      registered: boolean;
      registered_at: string | null;
    };

  /** A page whose browser speaks `lang`; collects page errors and failed responses. */
  async function open(lang: Lang) {
    const context = await browser.newContext({ locale: lang === 'ru' ? 'ru-RU' : 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().includes('/api/')) problems.push(`${r.status()} ${r.url()}`);
    });
    return { page, problems };
  }
  const signedIn = (page: Page) => page.waitForSelector('#app:not([hidden])');
  const toastText = async (page: Page, text: string | RegExp) => {
    await page.waitForSelector('#toast.show');
    await expect.poll(() => page.textContent('#toast')).toMatch(text);
  };
  const shot = async (page: Page, name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = `${ARTIFACTS}${name}.png`;
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(1000);
  };
  const tab = (page: Page, name: string) => page.click(`nav button[data-tab="${name}"]`);
  const expectedDate = (iso: string, lang: Lang) =>
    new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'medium',
      timeZone: TIME_ZONE,
    }).format(new Date(iso));

  /** Runs axe-core in the page; returns serious and critical violations (ids and targets). */
  async function axeViolations(page: Page) {
    await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(AXE_RUN)) as Array<{ id: string; impact: string; targets: string[] }>;
    return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  /**
   * Text the page shows that is not from the catalogue: every text node and labelling attribute must sit in an
   * element rendered from a catalogue key (`data-i18n`, text equal to the key's message in the current language)
   * or in one holding server data (`data-dynamic`).
   */
  async function literalText(page: Page) {
    // The page's own i18n module (same URL: the same instance and language).
    await page.evaluate("import(new URL('i18n.js', document.baseURI).href).then((m) => { window.__i18n = m; })");
    return (await page.evaluate(LITERAL_TEXT_CHECK)) as string[];
  }

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    srv = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1', RETAILCRM_TIME_ZONE: TIME_ZONE }),
      logger: createLogger('silent'),
      inMemory: true,
      clientFactory: testClientFactory,
    });
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Flower Shop', pbxToken: 'pbx-0367' });
    for (const p of ['150', '151', '152']) {
      await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: p });
    }
    await api('PUT', 'config/0367', ADMIN, { domain: 'https://demo.retailcrm.ru', api_key: FAKE_RETAILCRM_API_KEY });
    await freshLink();
    expect((await api('POST', 'save-extensions/0367', ADMIN, { extensions: { '19': '151' } })).status).toBe(200);
    await insertCallLogs(srv.storage, {
      enterpriseNumber: '0367',
      incomingCallId: 'CALL-IN-1',
      failedCallId: 'CALL-OUT-2',
      apiKey: FAKE_RETAILCRM_API_KEY,
    });
    await srv.storage.insertDeadLetter({
      queue: DELIVERY_QUEUE,
      enterpriseNumber: '0367',
      jobId: '0367|DEAD-1|dial|retailcrm',
      payload: {
        enterprise_number: '0367',
        event_type: 'dial',
        payload: { Token: '***', UniqueId: 'DEAD-1', CallType: 0, Phone: '+79001234567', Extensions: ['150'] },
      },
      errorMessage: 'RetailCRM refused the call event',
      attempts: 5,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    msw.close();
    await srv?.close();
  }, 60_000);

  it('opens with the account link: token out of the URL, key masked, dates in the account zone, favicon', async () => {
    const { page, problems } = await open('en');
    const link = await freshLink();
    const iconLoaded = page.waitForResponse((r) => r.url().endsWith('/favicon.svg'));
    await page.goto(link.url);
    await titled(page);
    expect(await page.title()).toBe('Flower Shop — RetailCRM integration');
    expect((await iconLoaded).status()).toBe(200);
    expect(page.url()).not.toContain('token=');
    expect(await page.getAttribute('#api_key', 'placeholder')).toMatch(/^unchanged: .{4}\*{4}.{4}$/);
    expect(await page.content()).not.toContain(FAKE_RETAILCRM_API_KEY);
    const since = (await stored()).registered_at as string;
    expect(await page.textContent('#registration')).toBe(`Registered in RetailCRM since ${expectedDate(since, 'en')}`);

    await tab(page, 'settings');
    await page.check('#ev-smart_redirect');
    await page.click('#save-settings');
    await toastText(page, 'Settings saved');
    expect((await stored()).events.smart_redirect).toBe(true);
    await shot(page, 'open-en');
    expect(problems).toEqual([]);
  });

  it('"Save and register" from the account link stays signed in on the rotated link', async () => {
    const { page, problems } = await open('en');
    const link = await freshLink();
    await page.goto(link.url);
    await signedIn(page);
    await page.click('#register');
    await toastText(page, 'Registered in RetailCRM');
    expect(await page.isHidden('#login')).toBe(true);
    expect(await page.isVisible('#app')).toBe(true);
    // The address bar follows the new link (no token in it), the page holds the new token, the old one is revoked.
    const url = new URL(page.url());
    expect(url.searchParams.get('enterprise_number')).toBe('0367');
    expect(url.searchParams.has('token')).toBe(false);
    const held = (await sessionToken(page)) as string;
    expect(held).not.toBe(link.token);
    expect((await api('GET', 'config/0367', link.token)).status).toBe(401);
    expect((await api('GET', 'config/0367', held)).status).toBe(200);
    await page.reload();
    await signedIn(page);
    expect(await page.title()).toBe('Flower Shop — RetailCRM integration');
    await shot(page, 'registered-en');
    expect(problems).toEqual([]);
  });

  it('"Remove integration" asks, then the page shows the new state without a reload', async () => {
    const { page } = await open('en');
    await page.goto(`${srv.url}/retailcrm-admin/`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('input[name="enterprise_number"]', '0367');
    await page.fill('input[name="token"]', ADMIN);
    await page.click('#login-form button[type="submit"]');
    await signedIn(page);
    expect(await page.textContent('#registration')).toMatch(/^Registered in RetailCRM since /);
    await page.click('#unregister');
    await page.waitForSelector('#confirm[open]');
    expect(await page.textContent('#confirm-text')).toContain('Remove the integration');
    await shot(page, 'remove-confirm-en');
    await page.click('#confirm-yes');
    await toastText(page, 'Integration removed');
    await expect.poll(() => page.textContent('#registration')).toBe('Not registered in RetailCRM');
    expect(await page.isDisabled('#unregister')).toBe(true);
    expect((await stored()).registered).toBe(false);

    // Through an account link the removal revokes that link: the page says so instead of a bare sign-in form.
    const link = await freshLink();
    const other = await open('en');
    await other.page.goto(link.url);
    await signedIn(other.page);
    await other.page.click('#unregister');
    await other.page.click('#confirm-yes');
    await other.page.waitForSelector('#login:not([hidden])');
    await toastText(other.page, /integration was removed/);
    await freshLink();
  });

  it('the extension dropdown names the current owner and asks before taking it', async () => {
    const { page } = await open('en');
    await page.goto((await freshLink()).url);
    await signedIn(page);
    await tab(page, 'managers');
    await page.click('#load-managers');
    const anna = 'tr[data-user-id="18"] select';
    await page.waitForSelector(anna);
    const options = await page.$$eval(`${anna} option`, (os) => os.map((o) => o.textContent));
    expect(options).toEqual(['— not assigned —', '150 (free)', '151 — Boris Ivanov', '152 (free)']);
    expect(await page.getAttribute(anna, 'aria-label')).toBe('Extension of Anna Petrova');

    await page.selectOption(anna, '151');
    await page.click('tr[data-user-id="18"] button');
    await page.waitForSelector('#confirm[open]');
    expect(await page.textContent('#confirm-text')).toBe(
      'Extension 151 belongs to Boris Ivanov. Take it from Boris Ivanov and give it to Anna Petrova?',
    );
    await shot(page, 'reassign-confirm-en');
    await page.click('#confirm-no');
    expect(await page.inputValue(anna)).toBe('');
    expect((await stored()).user_extensions).toEqual({ '19': '151' });

    await page.selectOption(anna, '151');
    await page.click('tr[data-user-id="18"] button');
    await page.click('#confirm-yes');
    await toastText(page, 'Extension saved');
    expect((await stored()).user_extensions).toEqual({ '18': '151' });
    await expect
      .poll(() => page.$$eval('tr[data-user-id="19"] select option', (os) => os.map((o) => o.textContent)))
      .toContain('151 — Anna Petrova');
    // A free extension is saved without a question.
    await page.selectOption('tr[data-user-id="19"] select', '152');
    await page.click('tr[data-user-id="19"] button');
    await toastText(page, 'Extension saved');
    expect(await page.isVisible('#confirm[open]')).toBe(false);
    expect((await stored()).user_extensions).toEqual({ '18': '151', '19': '152' });
  });

  it('logs: filters by call id, phone, event, status and time; the detail shows masked request and response', async () => {
    const { page, problems } = await open('en');
    await page.goto((await freshLink()).url);
    await signedIn(page);
    await tab(page, 'logs');
    await page.waitForSelector('#logs tbody tr');
    const callIds = () => page.$$eval('#logs tbody tr', (rows) => rows.map((r) => r.children[4]?.textContent));
    expect(await callIds()).toEqual(expect.arrayContaining(['CALL-IN-1', 'CALL-OUT-2']));

    await page.fill('#f-call_id', 'CALL-IN-1');
    await page.click('#logs-apply');
    await expect.poll(callIds).toEqual(['CALL-IN-1']);
    const row = await page.$$eval('#logs tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect(row.slice(1, 7)).toEqual(['dial', 'incoming', '+79991234567', 'CALL-IN-1', 'success', '120']);

    await page.click('#logs-reset');
    await page.fill('#f-phone', '8 (495) 111-22-33');
    await page.click('#logs-apply');
    await expect.poll(callIds).toEqual(['CALL-OUT-2']);
    await page.fill('#f-phone', '');
    await page.selectOption('#f-status', 'error');
    await page.selectOption('#f-event', 'hangup');
    await page.click('#logs-apply');
    await expect.poll(callIds).toEqual(['CALL-OUT-2']);
    await page.click('#logs-reset');
    await page.fill('#f-since', '2099-01-01T00:00');
    await page.click('#logs-apply');
    await expect.poll(() => page.textContent('#logs-range')).toBe('Nothing found');
    // The time filter is read in the account's zone: 00:00 Moscow is 21:00 UTC the day before.
    await page.fill('#f-since', '2020-01-01T00:00');
    const query = page.waitForRequest((r) => r.url().includes('/api/logs/'));
    await page.click('#logs-apply');
    expect(new URL((await query).url()).searchParams.get('since')).toBe('2019-12-31T21:00:00.000Z');

    await page.click('#logs-reset');
    await page.fill('#f-call_id', 'CALL-OUT-2');
    await page.click('#logs-apply');
    await expect.poll(callIds).toEqual(['CALL-OUT-2']);
    await page.click('#logs tbody tr button');
    await page.waitForSelector('#detail[open]');
    const detail = (await page.textContent('#detail')) as string;
    expect(detail).toContain('"operation": "callsUpload"');
    expect(detail).toContain('"api_key": "***"');
    expect(detail).toContain('RetailCRM answered 400');
    expect(detail).not.toContain(FAKE_RETAILCRM_API_KEY);
    await shot(page, 'log-detail-en');
    await page.click('#detail-close');
    expect(await page.isVisible('#detail[open]')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('undelivered events: detail and re-send once through the queue', async () => {
    const { page } = await open('en');
    await page.goto((await freshLink()).url);
    await signedIn(page);
    await tab(page, 'dead-letters');
    await page.waitForSelector('#dead-letters tbody tr');
    const cells = await page.$$eval('#dead-letters tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect(cells.slice(1, 6)).toEqual(['dial', 'DEAD-1', 'RetailCRM refused the call event', '5', '—']);
    await page.click('#dead-letters tbody tr button:text("Details")');
    await page.waitForSelector('#detail[open]');
    expect(await page.textContent('#detail')).toContain('"UniqueId": "DEAD-1"');
    await page.click('#detail-close');

    const enqueued = srv.telephony.state().queue_stats.enqueued;
    await page.click('#dead-letters tbody tr button:text("Re-send")');
    await toastText(page, 'Queued for delivery');
    await expect.poll(() => page.textContent('#dead-letters tbody tr td:nth-child(6)')).not.toBe('—');
    expect(srv.telephony.state().queue_stats.enqueued).toBe(enqueued + 1);
    await page.click('#dead-letters tbody tr button:text("Re-send")');
    await toastText(page, 'Already queued; nothing sent twice');
    expect(srv.telephony.state().queue_stats.enqueued).toBe(enqueued + 1);
    await shot(page, 'dead-letters-en');
  });

  it('accountUrl opened with a POST works like a GET', async () => {
    const { page } = await open('en');
    const link = await freshLink();
    await page.setContent(
      `<form method="post" action="${link.url}"><input name="clientId" value="0367"><button>go</button></form>`,
    );
    await page.click('button');
    await titled(page);
    await signedIn(page);
    expect(page.url()).not.toContain('token=');
    expect(await sessionToken(page)).toBe(link.token);
  });

  it('form validation: every pattern is a valid v-flag regular expression and is enforced', async () => {
    const { page } = await open('en');
    await page.goto(`${srv.url}/retailcrm-admin/`);
    await page.waitForSelector('#login:not([hidden])');
    const patterns = await page.$$eval('[pattern]', (els) => els.map((e) => e.getAttribute('pattern') as string));
    expect(patterns.length).toBeGreaterThanOrEqual(2);
    for (const p of patterns) expect(() => new RegExp(`^(?:${p})$`, 'v'), p).not.toThrow();
    await page.fill('input[name="enterprise_number"]', 'bad number!');
    expect((await validity(page, 'input[name="enterprise_number"]')).patternMismatch).toBe(true);
    await page.fill('input[name="enterprise_number"]', '0367');
    expect((await validity(page, 'input[name="enterprise_number"]')).valid).toBe(true);
  });

  for (const lang of ['ru', 'en'] as const) {
    it(`${lang}: every text from the catalogue, dates in ${lang}, no serious accessibility violations`, async () => {
      const { page, problems } = await open(lang);
      await page.goto(`${srv.url}/retailcrm-admin/`);
      await page.waitForSelector('#login:not([hidden])');
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await literalText(page)).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);

      await page.goto((await freshLink()).url);
      await signedIn(page);
      const since = (await stored()).registered_at as string;
      expect(await page.textContent('#registration')).toContain(expectedDate(since, lang));
      const checks: Array<[string, () => Promise<unknown>]> = [
        ['connection', async () => undefined],
        ['settings', async () => undefined],
        [
          'managers',
          async () => {
            await page.click('#load-managers');
            await page.waitForSelector('#managers tbody tr');
          },
        ],
        ['logs', () => page.waitForSelector('#logs tbody tr')],
        ['dead-letters', () => page.waitForSelector('#dead-letters tbody tr')],
      ];
      for (const [name, ready] of checks) {
        await tab(page, name);
        await ready();
        expect(await literalText(page), name).toEqual([]);
        expect(await axeViolations(page), name).toEqual([]);
        await shot(page, `${name}-${lang}`);
      }
      await tab(page, 'logs');
      await page.waitForSelector('#logs tbody tr');
      await page.click('#logs tbody tr button');
      await page.waitForSelector('#detail[open]');
      expect(await literalText(page)).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, `log-detail-${lang}`);
      await page.click('#detail-close');
      expect(problems).toEqual([]);
    });
  }

  it('the language switch changes every text and is remembered over the browser language', async () => {
    const { page } = await open('ru');
    await page.goto((await freshLink()).url);
    await signedIn(page);
    expect(await page.textContent('nav button[data-tab="connection"]')).toBe('Подключение');
    expect(await page.getAttribute('[data-lang="ru"]', 'aria-pressed')).toBe('true');
    await page.click('[data-lang="en"]');
    expect(await page.textContent('nav button[data-tab="connection"]')).toBe('Connection');
    expect(await page.title()).toBe('Flower Shop — RetailCRM integration');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await literalText(page)).toEqual([]);
    await page.reload();
    await signedIn(page);
    expect(await page.textContent('nav button[data-tab="connection"]')).toBe('Connection');
    await page.click('[data-lang="ru"]');
    expect(await page.title()).toBe('Flower Shop — интеграция с RetailCRM');
  });

  it('without a valid link the page asks to sign in and the API refuses', async () => {
    const { page } = await open('en');
    await page.goto(`${srv.url}/retailcrm-admin/?enterprise_number=0367&token=not-a-token`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#app')).toBe(true);
    await toastText(page, /expired or was revoked/);
  });
});
