export { type ScriptedAmiPeer, type ScriptedAmiPeerOptions, startScriptedAmiPeer } from './ami-peer.js';
export { createFakeTelephonyApi, FakeCrmError, type FakeFailure, type FakeTelephonyApi } from './fake-telephony-api.js';
export { createManualClock, type ManualClock } from './manual-clock.js';
export { type QueueFactory, type QueueSuiteApi, registerDeliveryQueueSuite, sampleDeliveryJob } from './queue-suite.js';
export {
  type DeadLetterStoreFactory,
  type DeadLetterStoreHarness,
  type IntegrationLogFactory,
  type IntegrationLogHarness,
  registerDeadLetterStoreSuite,
  registerIntegrationLogSuite,
  type StoredDeadLetter,
  type StoredIntegrationLogRecord,
} from './store-suites.js';
