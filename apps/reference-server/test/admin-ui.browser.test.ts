import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFakeRetailCrm, FAKE_RETAILCRM_API_KEY } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testClientFactory, testEnv } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))('admin UI in chromium', () => {
  const fake = createFakeRetailCrm({ users: [{ id: 18, firstName: 'Anna', lastName: 'Petrova' }] });
  const msw = setupServer(...fake.handlers);
  let srv: RunningServer;
  let browser: Browser;
  let accountUrl: string;

  beforeAll(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    srv = await startServer({
      config: loadConfig({ ...testEnv, PORT: '0', HOST: '127.0.0.1' }),
      logger: createLogger('silent'),
      inMemory: true,
      clientFactory: testClientFactory,
    });
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Flower Shop', pbxToken: 'pbx-0367' });
    await srv.storage.upsertInternalPhone({ enterpriseNumber: '0367', phoneNumber: '150' });
    const headers = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' };
    await fetch(`${srv.url}/api/config/0367`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ domain: 'https://demo.retailcrm.ru', api_key: FAKE_RETAILCRM_API_KEY }),
    });
    const reg = (await (await fetch(`${srv.url}/api/register/0367`, { method: 'POST', headers })).json()) as {
      account_url: string;
    };
    // The link RetailCRM shows points at PUBLIC_BASE_URL; the test server listens elsewhere.
    const link = new URL(reg.account_url);
    accountUrl = `${srv.url}${link.pathname}${link.search}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    msw.close();
    await srv?.close();
  });

  it('opens with the account link, shows the enterprise, saves a setting, keeps a screenshot', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(accountUrl);
    await page.waitForFunction('document.title.startsWith("Flower Shop")');
    expect(await page.title()).toBe('Flower Shop — RetailCRM integration');
    // The token was moved out of the address bar.
    expect(page.url()).not.toContain('token=');
    // The key is masked.
    const placeholder = await page.getAttribute('#api_key', 'placeholder');
    expect(placeholder).toMatch(/^.{4}\*{4}.{4}$/);
    expect(await page.content()).not.toContain(FAKE_RETAILCRM_API_KEY);

    await page.click('nav button[data-tab="settings"]');
    expect(await page.isChecked('#ev-smart_redirect')).toBe(false);
    await page.check('#ev-smart_redirect');
    await page.click('#save-settings');
    await page.waitForSelector('#toast.show');
    expect(await page.textContent('#toast')).toBe('Settings saved');
    const stored = (await srv.storage.getEnterprise('0367'))?.integrationsConfig.retailcrm as {
      events: Record<string, boolean>;
    };
    expect(stored.events.smart_redirect).toBe(true);

    await page.click('nav button[data-tab="managers"]');
    await page.click('#load-managers');
    await page.waitForSelector('#managers tbody tr');
    expect(await page.textContent('#managers tbody')).toContain('Anna Petrova');

    mkdirSync(ARTIFACTS, { recursive: true });
    const file = `${ARTIFACTS}admin-ui.png`;
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
  });

  it('without a valid link the page asks to sign in and the API refuses', async () => {
    const page = await browser.newPage();
    await page.goto(`${srv.url}/retailcrm-admin/?enterprise_number=0367&token=not-a-token`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#app')).toBe(true);
  });
});
