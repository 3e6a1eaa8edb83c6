// Type-level tests of the published packages, compiled by scripts/pack-check.mjs in a project outside the monorepo
// against the packed tarballs: strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck off,
// once with `moduleResolution: bundler` and once with `node16` (this file is ESM there).
import { createConfigCache } from '@callbridge/config-cache';
import { createPgListenInvalidationSource } from '@callbridge/config-cache/pg';
import { parseMessageIn } from '@callbridge/messenger-contract';
import { RedisInboundDedup } from '@callbridge/messenger-contract/redis';
import {
  createPhoneProtocol,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  PhoneClient,
  systemClock,
} from '@callbridge/phone-protocol';
import { RedisCommandBus } from '@callbridge/phone-protocol/redis';
import {
  createRetailCrmClient,
  RetailCrmApiError,
  RetailCrmError,
  type RetailCrmErrorOptions,
  type RetailCrmHttpErrorOptions,
} from '@callbridge/retailcrm-client';
import {
  createRetailCrmSink,
  createTelephonyPipeline,
  type EnablementMatrix,
  type RetailCrmApiFactory,
  type RetailCrmEnterpriseConfig,
  type RetailCrmTelephonyApi,
} from '@callbridge/telephony-events';
import { createRedisQueue, type RedisQueueOptions } from '@callbridge/telephony-events/redis';
import { Redis } from 'ioredis';

// 1. The client's `.telephony` satisfies telephony-events' port, as its README promises.
const client = createRetailCrmClient({ url: 'https://demo.retailcrm.ru', apiKey: 'key' });
export const api: RetailCrmTelephonyApi = client.telephony;
export const factory: RetailCrmApiFactory = (config) =>
  createRetailCrmClient({ url: config.domain, apiKey: config.api_key }).telephony;

// The check can fail: a port missing a method is refused.
// @ts-expect-error responsibleManager is missing
export const incomplete: RetailCrmTelephonyApi = {
  callEvent: client.telephony.callEvent,
  uploadCalls: client.telephony.uploadCalls,
};

// 2. The option types of public constructors are exported.
const errorOptions: RetailCrmErrorOptions = { status: 502, isRetryable: true, request: { method: 'GET', path: '/x' } };
const httpOptions: RetailCrmHttpErrorOptions = { ...errorOptions, errorMsg: 'Not found', errors: ['a'] };
export const errors = [
  new RetailCrmError('api_error', 'boom', errorOptions),
  new RetailCrmApiError('api', httpOptions),
];

// 3. The pipeline wiring of the telephony-events README.
const enablement = createConfigCache<EnablementMatrix>({
  loader: { load: async () => ({ retailcrm: true }), loadAll: async () => [['0367', { retailcrm: true }]] },
});
const configs = createConfigCache<RetailCrmEnterpriseConfig>({
  loader: { load: async () => undefined, loadAll: async () => [] },
});
export const pipeline = createTelephonyPipeline({
  enablement,
  sinks: [createRetailCrmSink({ config: configs, createApi: factory })],
});

// 4. The ./redis entries take an ioredis client.
const redis = new Redis({ lazyConnect: true });
const queueOptions: RedisQueueOptions = { connection: redis, prefix: 'test' };
export const redisBackends = {
  queue: () => createRedisQueue(queueOptions),
  bus: () => new RedisCommandBus({ redis, clock: systemClock }),
  dedup: () => new RedisInboundDedup(redis, { ttlMs: 1000 }),
};

// 5. Other entries in strict settings.
export const phone = () =>
  createPhoneProtocol({
    auth: { secret: 'a-secret-of-at-least-32-characters!!' },
    users: new InMemoryUserStore(),
    devices: new InMemoryDeviceRegistry(),
    commands: new InMemoryCommandBus({ clock: systemClock }),
    qrTokens: new InMemoryQrTokenStore(),
  });
export const phoneClient = new PhoneClient({ baseUrl: 'http://127.0.0.1:3000', deviceId: 'd1' });
export const pgSource = () => createPgListenInvalidationSource({ connectionString: 'postgres://x', channel: 'c' });
export const parsed = parseMessageIn({});
