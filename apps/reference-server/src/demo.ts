import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import type { CallOriginator } from './routes/retailcrm-callbacks.js';
import type { RunningServer } from './server.js';

export const DEMO_ENTERPRISE = '0367';
export const DEMO_PBX_TOKEN = 'demo-pbx-token';

/**
 * `--demo`: serves the fake RetailCRM (msw, in-process) and seeds one registered enterprise so an
 * integrator can click through the whole flow offline. Loaded lazily: msw is a dev dependency.
 */
export async function prepareDemo(logger: Logger) {
  const [{ setupServer }, testing] = await Promise.all([
    import('msw/node'),
    import('@callbridge/retailcrm-client/testing'),
  ]);
  const fake = testing.createFakeRetailCrm({
    users: [
      { id: 18, firstName: 'Anna', lastName: 'Petrova' },
      { id: 19, firstName: 'Boris', lastName: 'Ivanov' },
      { id: 22, firstName: 'Vera', lastName: 'Sidorova' },
    ],
    customers: [
      { id: 1, firstName: 'Ivan', lastName: 'Customer', phones: [{ number: '+79001234567' }], managerId: 18 },
    ],
  });
  const msw = setupServer(...fake.handlers);
  msw.listen({ onUnhandledRequest: 'bypass' });
  const originator: CallOriginator = {
    async originate(p) {
      logger.info(p, 'demo: click-to-call (no PBX attached; AMI Originate would ring the extension now)');
    },
  };
  return {
    fake,
    originator,
    async seed(running: RunningServer, config: AppConfig) {
      const s = running.storage;
      await s.upsertEnterprise({ number: DEMO_ENTERPRISE, name: 'Demo Flower Shop', pbxToken: DEMO_PBX_TOKEN });
      const owner = await s.createUser({ enterpriseNumber: DEMO_ENTERPRISE, firstName: 'Julai', lastName: 'Junovy' });
      for (const p of ['150', '151', '152', '153']) {
        await s.upsertInternalPhone({
          enterpriseNumber: DEMO_ENTERPRISE,
          phoneNumber: p,
          userId: p === '150' ? owner : null,
        });
      }
      await running.context.service.putConfig(DEMO_ENTERPRISE, {
        domain: fake.url,
        api_key: fake.apiKey,
        enabled: true,
        events: { incoming: true, outgoing: true, hangup: true, history: true, smart_redirect: true },
      });
      await running.context.service.saveExtensions(DEMO_ENTERPRISE, { '18': '150' });
      const { account_url } = await running.context.service.register(DEMO_ENTERPRISE);
      const local = new URL(account_url);
      logger.info(
        {
          account_url: `${running.url}${local.pathname}${local.search}`,
          public_account_url: account_url,
          pbx_token: DEMO_PBX_TOKEN,
          fake_retailcrm: fake.url,
          admin_token_hint: config.adminToken ? 'ADMIN_TOKEN from env or data/dev-secrets.json' : undefined,
        },
        'demo ready: open account_url in a browser; POST events to /api/events with X-PBX-Token',
      );
    },
    close: () => msw.close(),
  };
}
