export { createManualClock, type ManualClock } from './manual-clock.js';
export {
  type CommandBusFactory,
  type PortFactory,
  type PortSuiteApi,
  registerCommandBusSuite,
  registerDeviceRegistrySuite,
  registerLoginAttemptStoreSuite,
  registerQrTokenStoreSuite,
  registerRevokedTokenStoreSuite,
  registerUserStoreSuite,
} from './port-suites.js';
