export {
  type AvitoWebhookInput,
  avitoMessageWebhook,
  createFakeAvito,
  FAKE_AVITO_CLIENT_ID,
  FAKE_AVITO_CLIENT_SECRET,
  type FakeAvito,
  type FakeAvitoOptions,
} from './fake-avito.js';
export {
  createFakeTelegramWorker,
  FAKE_ADMIN_TOKEN,
  FAKE_TGWORKER_URL,
  type FakeTelegramWorker,
  type FakeTelegramWorkerOptions,
} from './fake-telegram-worker.js';
export {
  createFakeWhatsAppWeb,
  FAKE_WAWEB_TOKEN,
  type FakeWhatsAppWeb,
  type FakeWhatsAppWebOptions,
} from './fake-whatsapp-web.js';
export { type Fault, FaultQueue, type RecordedCall } from './faults.js';
export { createManualClock, ManualClock } from './manual-clock.js';
export {
  type InboundDedupFactory,
  type InboundDedupSuiteOptions,
  type InboundDedupSuiteSettings,
  registerAvitoChatCacheSuite,
  registerAvitoTokenStoreSuite,
  registerInboundDedupSuite,
  registerProviderTokenStoreSuite,
  registerTenantKeyStoreSuite,
  type StoreFactory,
  type StoreSuiteApi,
  type StoreUnderTest,
} from './store-suites.js';
