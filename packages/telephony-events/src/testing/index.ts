export { type ScriptedAmiPeer, type ScriptedAmiPeerOptions, startScriptedAmiPeer } from './ami-peer.js';
export { createFakeTelephonyApi, FakeCrmError, type FakeFailure, type FakeTelephonyApi } from './fake-telephony-api.js';
export { createManualClock, type ManualClock } from './manual-clock.js';
export { type QueueFactory, type QueueSuiteApi, registerDeliveryQueueSuite, sampleDeliveryJob } from './queue-suite.js';
