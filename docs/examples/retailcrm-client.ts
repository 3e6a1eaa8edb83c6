// Examples from docs/guides/retailcrm-client.md. They are only typechecked (`pnpm typecheck`), never run.
// In your code import from '@callbridge/retailcrm-client' and '@callbridge/retailcrm-client/testing'; the relative
// paths below point at the same files the package's `@callbridge/source` export condition resolves to.
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  buildTelephonyIntegrationModule,
  type CallRecord,
  createRetailCrmClient,
  formatRetailCrmDateTime,
  isRetailCrmApiError,
  isRetailCrmError,
  isRetailCrmValidationError,
  type RetailCrmClient,
} from '../../packages/retailcrm-client/src/index.js';
import { createFakeRetailCrm, createManualClock } from '../../packages/retailcrm-client/src/testing/index.js';

// --- 1. One client per account -----------------------------------------------------------------------------

export function clientFor(config: { domain: string; api_key: string }): RetailCrmClient {
  return createRetailCrmClient({
    url: config.domain, // https://<account>.retailcrm.ru; a trailing / or /api/v5 is accepted
    apiKey: config.api_key, // sent only in X-API-KEY; never in errors, logs, toString or JSON
    timeoutMs: 5_000, // per attempt
    retry: { retries: 2, minDelayMs: 250, maxDelayMs: 2_000 }, // 503/429 always; timeouts and 5xx if idempotent
    logger: { warn: (obj, msg) => console.warn(msg ?? '', obj) }, // pino's (obj, msg): a pino logger goes in as is
  });
}

// --- 2. Test connection: the admin UI's "Test connection" button --------------------------------------------

export async function testConnection(crm: RetailCrmClient) {
  try {
    const { credentials, sitesAvailable } = await crm.credentials();
    return { ok: true as const, credentials, sitesAvailable };
  } catch (error) {
    if (!isRetailCrmError(error)) throw error;
    if (error.code === 'auth') return { ok: false as const, error: 'wrong_api_key' };
    if (error.code === 'account_not_found') return { ok: false as const, error: error.code };
    return { ok: false as const, error: error.code, retryable: error.isRetryable };
  }
}

// --- 3. Register the telephony integration module ------------------------------------------------------------

export async function registerModule(crm: RetailCrmClient, enterpriseNumber: string, accountJwt: string) {
  let module: ReturnType<typeof buildTelephonyIntegrationModule>;
  try {
    module = buildTelephonyIntegrationModule({
      code: 'callbridge-telephony',
      name: 'Callbridge',
      baseUrl: 'https://pbx.example.com',
      logoSvg: 'https://pbx.example.com/static/logo.svg', // SVG only: .svg URL, data:image/svg+xml or <svg> markup
      clientId: enterpriseNumber, // RetailCRM echoes it to makeCallUrl as clientId
      accountUrl: `https://pbx.example.com/retailcrm-admin/?enterprise_number=${enterpriseNumber}&token=${accountJwt}`,
      makeCallUrl: 'https://pbx.example.com/retailcrm/make-call',
      changeUserStatusUrl: 'https://pbx.example.com/retailcrm/user-status',
      additionalCodes: { '19': '150', '18': '151', '22': null }, // user_extensions as stored; null = unassigned
      active: true, // false deactivates the module (unregister)
    });
  } catch (error) {
    // Nothing was sent: every problem RetailCRM would refuse is listed at once.
    if (isRetailCrmValidationError(error)) return { ok: false as const, issues: error.issues };
    throw error;
  }
  try {
    await crm.integrationModules.edit(module); // one JSON-string form field, as RetailCRM requires
    return { ok: true as const };
  } catch (error) {
    if (isRetailCrmApiError(error)) return { ok: false as const, issues: error.errorList() };
    throw error;
  }
}

// --- 4. Managers and their extensions ------------------------------------------------------------------------

export async function listManagers(crm: RetailCrmClient) {
  const managers: Array<{ id: number; name: string; status: string | undefined }> = [];
  for await (const user of crm.users.iterate({ filter: { active: true, isManager: true } })) {
    managers.push({ id: user.id, name: `${user.firstName ?? ''} ${user.lastName ?? ''}`.trim(), status: user.status });
  }
  const { integrationModule } = await crm.integrationModules.get('callbridge-telephony');
  const codes = integrationModule.integrations?.telephony?.additionalCodes ?? []; // [{ userId: '19', code: '150' }]
  return { managers, codes };
}

// --- 5. Calls: card, hangup, history, responsible manager ----------------------------------------------------

export async function incomingCall(crm: RetailCrmClient, signal: AbortSignal) {
  // After a timeout or 5xx not retried unless { retry: true }: RetailCRM does not de-duplicate call events.
  // A 503/429 is always retried: the event was not processed.
  const res = await crm.telephony.callEvent(
    { phone: '+79991234567', type: 'in', codes: ['150', '151'], callExternalId: '1736416800.1234' },
    { signal },
  );
  if (res.notExistCodes?.length) console.warn('extensions unknown to RetailCRM', res.notExistCodes);

  await crm.telephony.callEvent(
    { phone: '+79991234567', type: 'hangup', hangupStatus: 'no answered', callExternalId: '1736416800.1234' },
    { retry: true, signal },
  );

  const record: CallRecord = {
    date: formatRetailCrmDateTime(new Date(), 'Europe/Moscow'), // Y-m-d H:i:s in the account's time zone
    type: 'in',
    phone: '+79991234567',
    code: '150',
    result: 'no answer', // calls upload: 'no answer'; call event: 'no answered'
    duration: 0,
    externalId: '1736416800.1234', // RetailCRM de-duplicates uploads by externalId
  };
  const upload = await crm.telephony.uploadCalls([record], { signal }); // batches of <= 50, retried
  return upload.duplicateCalls; // externalIds RetailCRM already had
}

export async function responsibleExtension(crm: RetailCrmClient, phone: string) {
  const { manager } = await crm.telephony.responsibleManager(
    { phone, details: true },
    { signal: AbortSignal.timeout(1_500) }, // the caller is waiting: keep it short
  );
  return manager?.code; // the manager's extension when details were requested
}

// --- 6. A contract test against the fake RetailCRM ------------------------------------------------------------

/** Call this from a vitest test file; it registers the msw server hooks and one test. */
export function registerFakeRetailCrmContract() {
  const fake = createFakeRetailCrm({
    apiKey: 'test-key-0123456789',
    users: [
      { id: 19, firstName: 'Anna', status: 'free' },
      { id: 18, status: 'busy' },
    ],
    customers: [{ id: 10, phones: [{ number: '+79991234567' }], managerId: 19 }],
  });
  const server = setupServer(...fake.handlers);
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    fake.reset(); // back to the seed; clears events, uploads, recorded requests and injected failures
    server.resetHandlers();
  });
  afterAll(() => server.close());

  it('shows a call card, uploads history and survives a 503', async () => {
    const crm = createRetailCrmClient({ url: fake.url, apiKey: fake.apiKey, retry: { minDelayMs: 1, maxDelayMs: 5 } });
    await registerModule(crm, '0367', 'jwt');
    expect(fake.state.integrationModules.get('callbridge-telephony')?.active).toBe(true);

    await crm.telephony.callEvent({ phone: '+79991234567', type: 'in', codes: ['150'] });
    expect(fake.state.callEvents).toMatchObject([{ phone: '+79991234567', type: 'in', codes: ['150'] }]);

    fake.failNext({ status: 503, path: '/telephony/calls/upload' }); // RetailCRM over its rate limit
    await crm.telephony.uploadCalls([
      { date: '2025-01-09 10:00:00', type: 'in', phone: '+79991234567', result: 'answered', externalId: 'u1' },
    ]);
    expect(fake.state.uploadedCalls).toHaveLength(1);
    expect(fake.requestsTo('/telephony/calls/upload', 'POST').map((r) => r.status)).toEqual([503, 200]);
    expect(fake.requestsTo(/\/telephony\//).every((r) => r.apiKey !== fake.apiKey)).toBe(true); // masked

    const { manager } = await crm.telephony.responsibleManager({ phone: '79991234567', details: true });
    expect(manager?.code).toBe('150'); // from the module's additionalCodes
  });
}

/** Rate limits and backoff without real waiting: share a manual clock between the client and the fake. */
export async function manualClockDemo() {
  const clock = createManualClock();
  const fake = createFakeRetailCrm({ clock, rateLimit: { perSecond: 10 }, users: [{ id: 1 }] });
  const server = setupServer(...fake.handlers);
  server.listen();
  const crm = createRetailCrmClient({ url: fake.url, apiKey: fake.apiKey, clock, rateLimit: { perSecond: 10 } });
  await clock.run(Promise.all(Array.from({ length: 50 }, () => crm.users.get(1))));
  server.close();
  return fake.state.requests.map((request) => request.at); // at most 10 per virtual second
}
