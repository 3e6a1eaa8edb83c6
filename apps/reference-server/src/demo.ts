import { randomUUID } from 'node:crypto';
import { createUser } from '@callbridge/phone-protocol';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import type { CallOriginator } from './routes/retailcrm-callbacks.js';
import type { RunningServer } from './server.js';

export const DEMO_ENTERPRISE = '0367';
export const DEMO_PBX_TOKEN = 'demo-pbx-token';
/** Phone app login of manager 18 (Anna, extension 150); fixed so the README's commands work as printed. */
export const DEMO_PHONE_USER = { username: 'anna', password: 'demo-phone-password', extension: '150' } as const;

/** `--demo` seeds credentials printed in the README: never in production. */
export function demoRefusal(env: Record<string, string | undefined>): string | undefined {
  return env.NODE_ENV === 'production'
    ? '--demo seeds well-known credentials and cannot run with NODE_ENV=production (unset NODE_ENV or drop --demo)'
    : undefined;
}

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
    // The account's clock (GET /api/v5/settings): call dates arrive converted to it from the PBX's.
    timeZone: 'Europe/Moscow',
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
    /** `GET /demo/retailcrm/state`: what RetailCRM would have received, as plain JSON. */
    state: () => ({
      call_events: fake.state.callEvents,
      uploaded_calls: fake.state.uploadedCalls,
      tasks: fake.state.tasks,
      integration_modules: Object.fromEntries(fake.state.integrationModules),
      users: fake.state.users,
      time_zone: (fake.state.settings.timezone as { value?: string } | undefined)?.value,
    }),
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
      const phoneUser = await seedPhoneUser(running);
      // Exactly the makeCallUrl the fake RetailCRM now holds (callback secret included), aimed at this process:
      // requesting it is what RetailCRM does when the manager clicks a phone number.
      const registered = fake.state.integrationModules.get(config.moduleCode)?.integrations?.telephony?.makeCallUrl;
      const makeCall = registered ? new URL(registered) : undefined;
      makeCall?.searchParams.set('clientId', DEMO_ENTERPRISE);
      makeCall?.searchParams.set('userId', '18');
      makeCall?.searchParams.set('phone', '+79001234567');
      logger.info(
        {
          account_url: `${running.url}${local.pathname}${local.search}`,
          public_account_url: account_url,
          pbx_token: DEMO_PBX_TOKEN,
          fake_retailcrm: fake.url,
          admin_token_hint: config.adminToken ? 'ADMIN_TOKEN from env or data/dev-secrets.json' : undefined,
          phone_user: phoneUser,
          phone_sim: `callbridge-phone-sim --url ${running.url} --user ${phoneUser.username} --password ${DEMO_PHONE_USER.password} --devices 1`,
          qr_token: `curl -XPOST ${running.url}/api/phone-admin/qr/${DEMO_ENTERPRISE} -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -d '{"extension":"${phoneUser.extension}"}'`,
          // Demo enterprise only: a real deployment never prints its callback secret.
          click_to_call: makeCall ? `curl '${running.url}${makeCall.pathname}${makeCall.search}'` : undefined,
        },
        'demo ready: open account_url in a browser; POST events to /api/events with X-PBX-Token; run phone_sim, then click_to_call',
      );
    },
    close: () => msw.close(),
  };
}

/** The phone app account of the demo manager, bound to the manager's extension (idempotent across restarts). */
async function seedPhoneUser(running: RunningServer) {
  const { users } = running.phone;
  const existing = await users.findByUsername(DEMO_PHONE_USER.username);
  const id = existing?.id ?? randomUUID();
  await createUser(users, { id, username: DEMO_PHONE_USER.username, password: DEMO_PHONE_USER.password });
  await users.assign(id, DEMO_ENTERPRISE, DEMO_PHONE_USER.extension);
  return { username: DEMO_PHONE_USER.username, extension: DEMO_PHONE_USER.extension };
}
