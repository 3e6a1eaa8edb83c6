import { createRetailCrmClient } from '@callbridge/retailcrm-client';
import { createFakeRetailCrm } from '@callbridge/retailcrm-client/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelephonyPipeline, type TelephonyPipeline } from '../src/delivery/pipeline.js';
import { createDeliveryPolicies } from '../src/delivery/policies.js';
import { createInMemoryDeadLetterStore, createInMemoryIntegrationLog } from '../src/delivery/stores.js';
import type { RetailCrmApiFactory, RetailCrmEnterpriseConfig } from '../src/ports.js';
import { createInProcessQueue } from '../src/queue/in-process-queue.js';
import { createSmartRedirect } from '../src/redirect/smart-redirect.js';
import { createRetailCrmSink } from '../src/retailcrm/retailcrm-sink.js';

// The RetailCRM sink through the real @callbridge/retailcrm-client against its msw fake account.
const fake = createFakeRetailCrm({
  users: [{ id: 18, status: 'free' }],
  customers: [{ id: 7, firstName: 'Anna', phones: [{ number: '+7 (900) 555-00-11' }], managerId: 18 }],
});
const server = setupServer(...fake.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

const config: RetailCrmEnterpriseConfig = {
  domain: fake.url,
  api_key: fake.apiKey,
  enabled: true,
  user_extensions: { '19': '150', '18': '151' },
};
const createApi: RetailCrmApiFactory = (c) =>
  createRetailCrmClient({
    url: c.domain,
    apiKey: c.api_key,
    timeoutMs: 2000,
    retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5 },
    rateLimit: false,
  }).telephony;

const pipelines: TelephonyPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.close()));
  fake.reset();
});

function build() {
  const log = createInMemoryIntegrationLog();
  const deadLetters = createInMemoryDeadLetterStore();
  const pipeline = createTelephonyPipeline({
    enablement: async () => ({ retailcrm: true }),
    sinks: [createRetailCrmSink({ config: async () => config, createApi })],
    queue: createInProcessQueue({ attempts: 6, retryDelayMs: () => 10 }),
    policies: createDeliveryPolicies({
      timeoutMs: 2500,
      retries: 2,
      backoff: { initialMs: 1, maxMs: 5 },
      breaker: { consecutiveFailures: 20, halfOpenAfterMs: 10 },
      rateLimit: false,
    }),
    integrationLog: log,
    deadLetters,
  });
  pipelines.push(pipeline);
  return { pipeline, log, deadLetters };
}

describe('RetailCRM sink through the real client and the fake account', () => {
  it('dial + hangup with a 503 phase -> call events and one upload, exactly once', async () => {
    const { pipeline, log, deadLetters } = build();
    fake.failNext({ status: 503, path: '/telephony/call/event', times: 4 });
    fake.failNext({ status: 503, path: '/telephony/calls/upload', times: 3 });
    await pipeline.start();
    await pipeline.handle({
      enterprise_number: '0367',
      event_type: 'dial',
      payload: { UniqueId: '1736416800.1', CallType: 0, Phone: '79001234567', Extensions: ['150', '151'] },
    });
    await pipeline.onIdle();
    const hangup = {
      enterprise_number: '0367',
      event_type: 'hangup',
      payload: {
        UniqueId: '1736416800.1',
        CallType: 0,
        Phone: '79001234567',
        Extensions: ['151'],
        CallStatus: '2',
        StartTime: '2025-01-09 10:00:00',
        EndTime: '2025-01-09 10:01:30',
      },
    };
    await pipeline.handle(hangup);
    await pipeline.handle(hangup); // duplicate from the PBX
    await pipeline.onIdle();

    expect(deadLetters.list()).toEqual([]);
    expect(fake.state.callEvents).toMatchObject([
      { phone: '+79001234567', type: 'in', codes: ['150', '151'], userIds: [19, 18] },
      { phone: '+79001234567', type: 'hangup', hangupStatus: 'answered', codes: ['151'], userIds: [18] },
    ]);
    expect(fake.state.uploadedCalls).toMatchObject([
      {
        date: '2025-01-09 10:00:00',
        type: 'in',
        phone: '+79001234567',
        code: '151',
        userId: 18,
        result: 'answered',
        duration: 90,
        externalId: '1736416800.1',
      },
    ]);
    expect(log.list().some((r) => r.status === 'error')).toBe(true);
    expect(JSON.stringify(log.list())).not.toContain(fake.apiKey);
  });

  it('smart redirect resolves the responsible manager through /telephony/manager', async () => {
    const smart = createSmartRedirect({ config: async () => config, createApi, budgetMs: 1500 });
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79005550011' })).resolves.toEqual({
      extension: '151',
      managerId: 18,
      source: 'crm',
    });
    // Unknown customer: no manager -> default route, no throw.
    await expect(smart.resolveResponsibleExtension({ enterprise: '0367', phone: '79990000000' })).resolves.toEqual({
      extension: undefined,
      reason: 'no_manager',
      source: 'crm',
    });
    expect(fake.requestsTo('/telephony/manager')).toHaveLength(2);
  });
});
