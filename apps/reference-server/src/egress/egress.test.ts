import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createSecretBox } from '../secret-box.js';
import type { Enterprise, IntegrationLogInput } from '../storage/types.js';
import { toEnterpriseRetailCrm } from './account-config.js';
import { createIntegrationLogWriter } from './integration-log.js';
import { createRetailCrmEgress } from './retailcrm-egress.js';

const secrets = createSecretBox(Buffer.alloc(32, 7));
const enterprise = (retailcrm: Record<string, unknown>, active = true): Enterprise => ({
  number: '0367',
  name: 'Shop',
  pbxToken: null,
  active,
  integrationsConfig: { retailcrm },
  adminTokenVersion: 0,
});

describe('stored RetailCRM settings -> telephony-events config', () => {
  it('decrypts the key and passes the stored switches and call settings straight through', () => {
    const stored = {
      domain: 'https://shop.retailcrm.ru',
      api_key: secrets.encrypt('key-0123456789'),
      enabled: true,
      events: { incoming: false, outgoing: true, hangup: false, history: true },
      user_extensions: { '18': '150', '19': null },
      recording_wait_seconds: 30,
      time_zone: 'Europe/Minsk',
    };
    expect(toEnterpriseRetailCrm(enterprise(stored), secrets)).toEqual({
      enterprise_number: '0367',
      retailcrm: {
        domain: 'https://shop.retailcrm.ru',
        api_key: 'key-0123456789',
        enabled: true,
        user_extensions: { '18': '150', '19': null },
        // Missing stored flags get the stored defaults (smart redirect off); every flag gates what it names.
        events: { incoming: false, outgoing: true, hangup: false, history: true, smart_redirect: false },
        default_country: 'BY',
        recording_wait_seconds: 30,
        send_internal_calls: false,
        missed_call_task: false,
        time_zone: 'Europe/Minsk',
      },
    });
    expect(toEnterpriseRetailCrm(enterprise(stored, false), secrets).retailcrm?.enabled).toBe(false);
  });

  it('is not configured without a domain or with a key this SECRET_KEY cannot read', () => {
    expect(toEnterpriseRetailCrm(enterprise({ api_key: 'key-0123456789' }), secrets).retailcrm).toBeUndefined();
    const rotated = createSecretBox(Buffer.alloc(32, 9)).encrypt('key-0123456789');
    const stored = { domain: 'https://shop.retailcrm.ru', api_key: rotated, enabled: true };
    expect(toEnterpriseRetailCrm(enterprise(stored), secrets)).toEqual({
      enterprise_number: '0367',
      retailcrm: undefined,
    });
  });
});

describe('integration-log writer', () => {
  it('stores one request shape with the account key masked everywhere, and never throws', async () => {
    const rows: IntegrationLogInput[] = [];
    const errors: unknown[] = [];
    const writer = createIntegrationLogWriter({ insertIntegrationLog: async (row) => rows.push(row) }, {
      error: (obj: unknown) => errors.push(obj),
    } as never);
    await writer.write({
      enterpriseNumber: '0367',
      eventType: 'phone_call_upload',
      operation: 'telephony.uploadCalls',
      callUniqueId: 'cmd-1',
      data: [{ externalId: 'cmd-1', note: 'sent with key-0123456789' }],
      attempt: 2,
      response: { echoed: 'key-0123456789', apiKey: 'anything' },
      status: 'error',
      errorMessage: 'rejected key-0123456789',
      durationMs: 12,
      secrets: ['key-0123456789'],
    });
    expect(rows).toEqual([
      {
        enterpriseNumber: '0367',
        integrationType: 'retailcrm',
        eventType: 'phone_call_upload',
        callUniqueId: 'cmd-1',
        direction: null,
        phone: null,
        requestData: {
          operation: 'telephony.uploadCalls',
          data: [{ externalId: 'cmd-1', note: 'sent with ***' }],
          attempt: 2,
        },
        responseData: { echoed: '***', apiKey: '***' },
        status: 'error',
        errorMessage: 'rejected ***',
        durationMs: 12,
      },
    ]);

    // The pipeline's rows take the same shape; the PBX call id is found in an upload's records too.
    const upload = {
      enterpriseNumber: '0367',
      integrationType: 'retailcrm',
      eventType: 'hangup',
      operation: 'telephony.uploadCalls',
      requestData: [{ externalId: '1700000000.1' }],
      responseData: null,
      status: 'success' as const,
      durationMs: 3,
      createdAt: new Date(0),
    };
    await writer.sink.write(upload);
    expect(rows[1]).toMatchObject({
      eventType: 'hangup',
      callUniqueId: '1700000000.1',
      requestData: { operation: 'telephony.uploadCalls', data: [{ externalId: '1700000000.1' }] },
    });
    // A row the sink traced carries the call's direction and number; warning/skipped pass through.
    await writer.sink.write({
      ...upload,
      status: 'warning',
      callUniqueId: 'u9',
      direction: 'out',
      phone: '+79001234567',
    });
    expect(rows[2]).toMatchObject({ status: 'warning', callUniqueId: 'u9', direction: 'out', phone: '+79001234567' });

    let down = true;
    const stored: IntegrationLogInput[] = [];
    const failing = createIntegrationLogWriter(
      {
        insertIntegrationLog: async (row) => {
          if (down) throw new Error('db down');
          return stored.push(row);
        },
      },
      { error: (obj: unknown) => errors.push(obj) } as never,
      { initialDelayMs: 5, maxDelayMs: 10 },
    );
    // Storage down: the write still resolves (the delivery goes on), the rows wait in order for a retry.
    await expect(failing.sink.write(upload)).resolves.toBeUndefined();
    await failing.write({
      enterpriseNumber: '0367',
      eventType: 'dial',
      operation: 'telephony.callEvent',
      data: {},
      status: 'error',
    });
    expect(errors).toHaveLength(1);
    expect(failing.pending()).toBe(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(stored).toHaveLength(0);
    down = false;
    await expect.poll(() => stored.length).toBe(2);
    expect(stored.map((r) => r.eventType)).toEqual(['hangup', 'dial']);
    expect(failing.pending()).toBe(0);
    await failing.close();
  });
});

describe('the egress policies', () => {
  const run = async (waitingPerAccount: number | undefined) => {
    const egress = createRetailCrmEgress({
      config: { get: async () => undefined },
      clientFactory: (() => {
        throw new Error('no client in this test');
      }) as never,
      storage: { insertIntegrationLog: async () => 0 },
      logger: createLogger('silent'),
      budget: { rateLimit: false, retries: 0, ...(waitingPerAccount ? { waitingPerAccount } : {}) },
    });
    const target = { enterpriseNumber: '0367', crm: 'retailcrm' };
    const calls = Array.from({ length: 300 }, () =>
      egress.policies.execute(target, () => new Promise((resolve) => setTimeout(() => resolve('ok'), 1))),
    );
    return (await Promise.allSettled(calls)).filter((r) => r.status === 'rejected').length;
  };

  it('never refuse a call for queueing when the server sizes the wait above its delivery concurrency', async () => {
    // 300 jobs of one account at once (a backlog after an outage): 4 run, the rest wait their turn.
    expect(await run(400)).toBe(0);
    // With the package default (100 waiting) the excess is refused: each refusal would cost a job an attempt.
    expect(await run(undefined)).toBeGreaterThan(0);
  });
});
