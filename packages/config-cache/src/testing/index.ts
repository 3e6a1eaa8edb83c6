export {
  type ConfigSourceFactory,
  type ConfigSourceHarness,
  type ConfigSourceSuiteApi,
  type ConfigSourceSuiteOptions,
  registerConfigSourceSuite,
} from './config-source-suite.js';
export { createManualClock, type ManualClock } from './manual-clock.js';
