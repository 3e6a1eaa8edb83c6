export type { BackoffOptions } from './backoff.js';
export {
  type CallResultInput,
  PhoneClient,
  type PhoneClientMetrics,
  type PhoneClientOptions,
  type PhoneTokens,
  type PullResult,
  type TelemetryInput,
} from './client.js';
export { type Clock, systemClock } from './clock.js';
export {
  type ClaimResult,
  type CommandBus,
  type CommandBusOptions,
  type CommandExtra,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_DELIVERIES,
  InMemoryCommandBus,
  type NewCommand,
  type PhoneCommand,
  type WakeListener,
} from './command-bus.js';
export {
  type DeviceRecord,
  type DeviceRegistry,
  InMemoryDeviceRegistry,
  listOnlineDevices,
} from './devices.js';
export { isPhoneProtocolError, PhoneAuthError, PhoneHttpError, PhoneProtocolError } from './errors.js';
export type { PhoneRequest, PhoneResponse } from './http.js';
export {
  InMemoryLoginAttemptStore,
  type LoginAttemptStore,
  type LoginThrottleOptions,
} from './login-throttle.js';
export type { HeldPoll, SettlePoll } from './long-poll.js';
export { createPullHandler, PULL_PATH, type PullHandlerOptions } from './node-http.js';
export { hashPassword, verifyPassword } from './password.js';
export {
  type CallResultEvent,
  type CommandTarget,
  createPhoneProtocol,
  type DeviceContext,
  type EnqueueInput,
  type PhoneHandler,
  type PhoneLogger,
  type PhoneProtocol,
  type PhoneProtocolOptions,
  type PhoneRoute,
  type PhoneRouteName,
  type PullTarget,
  phoneRoutes,
} from './protocol.js';
export { InMemoryQrTokenStore, type QrTokenStore, qrTokenDigest } from './qr-tokens.js';
export type { PollRateLimitOptions } from './rate-limit.js';
export { InMemoryRevokedTokenStore, type RevokedTokenStore } from './revoked-tokens.js';
export * from './schemas.js';
export { runSimulation, type SimulationOptions, type SimulationSummary } from './sim/simulator.js';
export {
  type AuthOptions,
  createTokenService,
  type TokenBinding,
  TokenInvalidError,
  type TokenService,
  type TokenType,
  type VerifiedToken,
} from './tokens.js';
export { createUser, InMemoryUserStore, type PhoneUser, type UserStore } from './users.js';
