export { accountNotFoundResponse, errorResponse, rateLimitedResponse } from './envelopes.js';
export {
  type CreatedCustomerNote,
  type CreatedTask,
  createFakeRetailCrm,
  FAKE_RETAILCRM_API_KEY,
  FAKE_RETAILCRM_URL,
  type FakeFailure,
  type FakeRetailCrm,
  type FakeRetailCrmOptions,
  type FakeRetailCrmState,
  type ReceivedCallEvent,
  type RecordedRequest,
} from './fake-retailcrm.js';
export { createManualClock, type ManualClock } from './manual-clock.js';
export {
  type PacingStoreFactory,
  type PacingStoreSuiteOptions,
  type PacingStoreSuiteSettings,
  registerPacingStoreSuite,
  type StoreSuiteApi,
  type StoreUnderTest,
} from './pacing-store-suite.js';
export { type FakeRetailCrmServer, type FakeRetailCrmServerOptions, startFakeRetailCrmServer } from './server.js';
export { maxInAnyWindow } from './windows.js';
