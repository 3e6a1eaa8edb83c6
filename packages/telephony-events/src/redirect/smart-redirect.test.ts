import { afterEach, describe, expect, it } from 'vitest';
import { createAmiClient } from '../ami/ami-client.js';
import { field } from '../ami/protocol.js';
import { createInMemoryIntegrationLog } from '../delivery/stores.js';
import type { RetailCrmEnterpriseConfig } from '../ports.js';
import { startScriptedAmiPeer } from '../testing/ami-peer.js';
import { createFakeTelephonyApi } from '../testing/fake-telephony-api.js';
import { createAmiChannelRedirector } from './channel-redirector.js';
import { createSmartRedirect } from './smart-redirect.js';

const SECRET = 'sk-redirect-secret-1';
const config: RetailCrmEnterpriseConfig = {
  domain: 'https://demo.retailcrm.ru',
  api_key: SECRET,
  enabled: true,
  user_extensions: { '19': '150', '18': '151', '22': null },
};
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function setup(overrides: Partial<Parameters<typeof createSmartRedirect>[0]> = {}) {
  const api = createFakeTelephonyApi();
  let now = 1_000_000;
  const redirects: unknown[] = [];
  const log = createInMemoryIntegrationLog();
  const smart = createSmartRedirect({
    config: async (e) => (e === '0367' ? config : undefined),
    createApi: () => api,
    clock: { now: () => now },
    integrationLog: log,
    redirector: {
      async redirect(target) {
        redirects.push(target);
      },
    },
    ...overrides,
  });
  return { api, smart, redirects, log, advance: (ms: number) => (now += ms) };
}

describe('smart redirect', () => {
  it('maps the responsible manager to manager.code, else to user_extensions[manager.id]', async () => {
    const { api, smart, log } = setup();
    api.managers.set('79001234567', { id: 19, code: '155' });
    api.managers.set('79002223344', { id: 18 });
    api.managers.set('79003334455', { id: 22 });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' })).resolves.toEqual({
      extension: '155',
      managerId: 19,
      source: 'crm',
    });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79002223344' })).resolves.toEqual({
      extension: '151',
      managerId: 18,
      source: 'crm',
    });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79003334455' })).resolves.toEqual({
      extension: undefined,
      reason: 'no_extension',
      source: 'crm',
    });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '70000000000' })).resolves.toEqual({
      extension: undefined,
      reason: 'no_manager',
      source: 'crm',
    });
    await expect(smart.resolveResponsibleExtension({ enterprise: '9999', phone: '7900' })).resolves.toMatchObject({
      reason: 'not_configured',
    });
    expect(log.list()).toHaveLength(4);
    expect(log.list()[0]).toMatchObject({
      eventType: 'smart_redirect',
      operation: 'telephony.responsibleManager',
      requestData: { phone: '79001234567', details: true },
      status: 'success',
    });
  });

  it('caches per phone for a short time (positive longer than negative)', async () => {
    const { api, smart, advance } = setup({ cacheTtlMs: 60_000, negativeCacheTtlMs: 5_000 });
    api.managers.set('79001234567', { id: 18 });
    const ask = (phone: string) => smart.resolveResponsibleExtension({ enterprise: '0367', phone });
    await ask('79001234567');
    await expect(ask('+7 (900) 123-45-67')).resolves.toMatchObject({ extension: '151', source: 'cache' });
    await ask('70000000000');
    await expect(ask('70000000000')).resolves.toMatchObject({ reason: 'no_manager', source: 'cache' });
    expect(api.attempts.responsibleManager).toBe(2);
    advance(6_000);
    await ask('70000000000');
    await ask('79001234567');
    expect(api.attempts.responsibleManager).toBe(3);
    advance(60_000);
    await ask('79001234567');
    expect(api.attempts.responsibleManager).toBe(4);
  });

  it('gives up at the time budget and never throws; errors are not cached', async () => {
    const { api, smart } = setup({ budgetMs: 30 });
    api.managers.set('79001234567', { id: 18, delayMs: 3000 });
    const started = Date.now();
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' })).resolves.toEqual({
      extension: undefined,
      reason: 'timeout',
      source: 'none',
    });
    expect(Date.now() - started).toBeLessThan(1500);
    api.failNext({ status: 503 });
    await expect(
      smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79002223344' }),
    ).resolves.toMatchObject({
      reason: 'error',
    });
    api.managers.set('79002223344', { id: 19 });
    await expect(
      smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79002223344' }),
    ).resolves.toMatchObject({
      extension: '150',
    });
  });

  it('the budget covers the config read too; a failing config reader or bad input is the default route', async () => {
    const hanging = setup({ budgetMs: 30, config: () => new Promise(() => {}) });
    await expect(
      hanging.smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' }),
    ).resolves.toEqual({ extension: undefined, reason: 'timeout', source: 'none' });
    const throwing = setup({
      config: () => {
        throw new Error('config store down');
      },
    });
    await expect(
      throwing.smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' }),
    ).resolves.toMatchObject({ extension: undefined, reason: 'error' });
    const { smart, api } = setup();
    const bad = [
      { enterprise: '0367', phone: undefined },
      { enterprise: '0367', phone: '' },
      { enterprise: undefined, phone: '79001234567' },
      undefined,
    ] as unknown as Array<{ enterprise: string; phone: string }>;
    for (const params of bad) {
      await expect(smart.resolveResponsibleExtension(params)).resolves.toMatchObject({ reason: 'error' });
      await expect(smart.redirectCall({ ...params, channel: 'SIP/151-1' })).resolves.toMatchObject({
        redirected: false,
      });
    }
    expect(api.attempts.responsibleManager).toBe(0);
  });

  it('integration-log write failures (sync throw or rejection) are logged and counted, never break a lookup', async () => {
    const errors: Array<{ obj: object; msg?: string }> = [];
    const logger = { info() {}, warn() {}, error: (obj: object, msg?: string) => errors.push({ obj, msg }) };
    let mode: 'throw' | 'reject' = 'throw';
    const { api, smart } = setup({
      logger,
      integrationLog: {
        write() {
          if (mode === 'throw') throw new Error(`log table gone ${SECRET}`);
          return Promise.reject(new Error('log db down'));
        },
      },
    });
    api.managers.set('79001234567', { id: 18 });
    api.managers.set('79002223344', { id: 19 });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' })).resolves.toEqual({
      extension: '151',
      managerId: 18,
      source: 'crm',
    });
    mode = 'reject';
    await expect(
      smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79002223344' }),
    ).resolves.toMatchObject({
      extension: '150',
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(smart.stats()).toEqual({ integrationLogErrors: 2 });
    expect(errors.map((e) => e.msg)).toEqual([
      'smart redirect: integration log write failed',
      'smart redirect: integration log write failed',
    ]);
    expect(JSON.stringify(errors)).not.toContain(SECRET);
    expect(JSON.stringify(errors)).toContain('log db down');
  });

  it('concurrent lookups of one phone make one CRM call', async () => {
    const { api, smart } = setup();
    api.managers.set('79001234567', { id: 18, delayMs: 10 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79001234567' })),
    );
    expect(results.every((r) => r.extension === '151')).toBe(true);
    expect(api.attempts.responsibleManager).toBe(1);
  });

  it('redirectCall redirects to the extension, or reports the default route', async () => {
    const { api, smart, redirects } = setup();
    api.managers.set('79001234567', { id: 18 });
    await expect(
      smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'SIP/trunk-00000001' }),
    ).resolves.toEqual({ redirected: true, extension: '151' });
    expect(redirects).toEqual([{ channel: 'SIP/trunk-00000001', exten: '151', context: 'from-internal', priority: 1 }]);
    await expect(
      smart.redirectCall({ enterprise: '0367', phone: '70000000000', channel: 'SIP/trunk-00000002' }),
    ).resolves.toEqual({ redirected: false, reason: 'no_manager' });
    const failing = setup({
      redirector: {
        async redirect() {
          throw new Error('boom');
        },
      },
    });
    failing.api.managers.set('79001234567', { id: 18 });
    await expect(
      failing.smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'SIP/x' }),
    ).resolves.toEqual({ redirected: false, reason: 'redirect_failed' });
    const hanging = setup({ redirectTimeoutMs: 30, redirector: { redirect: () => new Promise(() => {}) } });
    hanging.api.managers.set('79001234567', { id: 18 });
    const started = Date.now();
    await expect(
      hanging.smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'SIP/y' }),
    ).resolves.toEqual({ redirected: false, reason: 'redirect_failed' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('redirects a live channel through AMI Redirect', async () => {
    const peer = await startScriptedAmiPeer();
    const ami = createAmiClient({
      host: '127.0.0.1',
      port: peer.port,
      username: 'admin',
      secret: 'amp111',
      pingIntervalMs: 0,
    });
    cleanups.push(async () => {
      await ami.close();
      await peer.close();
    });
    await ami.connect();
    const { api, smart } = setup({ redirector: createAmiChannelRedirector(ami), context: 'ext-local' });
    api.managers.set('79001234567', { id: 19 });
    await expect(
      smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'SIP/trunk-0000000a' }),
    ).resolves.toEqual({ redirected: true, extension: '150' });
    const redirect = peer.actions.find((a) => field(a.action, 'Action') === 'Redirect')?.action;
    expect(redirect).toMatchObject({
      Channel: 'SIP/trunk-0000000a',
      Exten: '150',
      Context: 'ext-local',
      Priority: '1',
    });
    // A channel Asterisk does not know: the caller stays on the default route.
    await expect(
      smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'Local/gone' }),
    ).resolves.toEqual({ redirected: false, reason: 'redirect_failed' });
    const hanging = setup({ redirectTimeoutMs: 30, redirector: { redirect: () => new Promise(() => {}) } });
    hanging.api.managers.set('79001234567', { id: 18 });
    const started = Date.now();
    await expect(
      hanging.smart.redirectCall({ enterprise: '0367', phone: '79001234567', channel: 'SIP/y' }),
    ).resolves.toEqual({ redirected: false, reason: 'redirect_failed' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
