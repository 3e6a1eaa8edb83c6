export { accountNotFoundResponse, errorResponse, rateLimitedResponse } from './envelopes.js';
export {
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
