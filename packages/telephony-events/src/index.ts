export {
  type AmiClient,
  type AmiClientOptions,
  type AmiFields,
  type AmiStatus,
  createAmiClient,
  type OriginateParams,
  type RedirectParams,
} from './ami/ami-client.js';
export { AmiActionError, AmiAuthError, AmiConnectionError, AmiTimeoutError } from './ami/errors.js';
export { type AmiMessage, field as amiField } from './ami/protocol.js';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export {
  createTelephonyPipeline,
  type HandleResult,
  type PipelineStats,
  type TelephonyPipeline,
  type TelephonyPipelineOptions,
} from './delivery/pipeline.js';
export {
  type AttemptResult,
  type BreakerState,
  createDeliveryPolicies,
  type DeliveryPolicies,
  type DeliveryPolicyOptions,
} from './delivery/policies.js';
export { createKeyedRateLimiter, type KeyedRateLimiter, type RateLimiterOptions } from './delivery/rate-limiter.js';
export type { CrmSink, SinkCalls, SinkOutcome, SinkSkip } from './delivery/sink.js';
export {
  createInMemoryDeadLetterStore,
  createInMemoryIntegrationLog,
  type DeadLetterStore,
  type InMemoryDeadLetterStore,
  type InMemoryIntegrationLog,
} from './delivery/stores.js';
export {
  createUploadBatcher,
  refusedRecordIndexes,
  type UploadBatcher,
  type UploadBatcherOptions,
  type UploadRequest,
} from './delivery/upload-batcher.js';
export {
  describeError,
  type ErrorInfo,
  isRetryableError,
  isTelephonyEventsError,
  TelephonyEventsError,
} from './errors.js';
export { telephonyEventJsonSchema } from './events/json-schema.js';
export {
  type CallDirection,
  type CallFields,
  deriveDirection,
  deriveManagerCode,
  derivePhone,
  durationSeconds,
  extensionFromToken,
  idempotencyKey,
  internalExtensions,
  isAnswered,
  isInternalNumber,
  splitExtensions,
  userIdByExtension,
} from './events/mapping.js';
export { isAnonymousNumber, toE164 } from './events/phone-number.js';
export {
  type BridgePayload,
  bridgePayloadSchema,
  callTypeSchema,
  type DialPayload,
  type DownloadPayload,
  dialPayloadSchema,
  downloadPayloadSchema,
  EVENT_TYPES,
  type EventPayload,
  type EventType,
  type HangupPayload,
  hangupPayloadSchema,
  pbxDateTimeSchema,
  type StartPayload,
  startPayloadSchema,
  type TelephonyEvent,
  type TelephonyEventInput,
  telephonyEventSchema,
} from './events/schema.js';
export { toWallClock } from './events/timestamps.js';
export {
  type CallEvent,
  type CallEventResponse,
  type CallEventType,
  type CallRecord,
  type CallResult,
  type CallTrace,
  type Clock,
  type EnablementMatrix,
  type EnablementReader,
  type HangupStatus,
  type IntegrationLogRecord,
  type IntegrationLogSink,
  type IntegrationLogStatus,
  type KeyedReader,
  type Logger,
  type ResponsibleManagerResponse,
  type RetailCrmApiFactory,
  type RetailCrmConfigReader,
  type RetailCrmEnterpriseConfig,
  type RetailCrmTaskInput,
  type RetailCrmTasksApi,
  type RetailCrmTasksApiFactory,
  type RetailCrmTelephonyApi,
  retailCrmEnterpriseConfigSchema,
  systemClock,
  type UploadCallsResponse,
} from './ports.js';
export { createInProcessQueue, type InProcessQueueOptions } from './queue/in-process-queue.js';
export type {
  DeadLetter,
  DeadLetterHandler,
  DeliveryJob,
  DeliveryQueue,
  EnqueueResult,
  JobContext,
  JobHandler,
  QueueRetryOptions,
  QueueStats,
} from './queue/types.js';
export { redact } from './redact.js';
export { type ChannelRedirector, createAmiChannelRedirector } from './redirect/channel-redirector.js';
export {
  createSmartRedirect,
  type RedirectOutcome,
  type ResolveFailure,
  type ResolveResult,
  type SmartRedirect,
  type SmartRedirectOptions,
  type SmartRedirectStats,
} from './redirect/smart-redirect.js';
export { type FinishedCall, toCallRecord } from './retailcrm/call-record.js';
export { ANONYMOUS_PHONE, type CallKind, type CallView, viewCall } from './retailcrm/call-view.js';
export { formatRetailCrmDate, hostTimeZone } from './retailcrm/format.js';
export { createRecordingHold, type RecordingHold, type RecordingHoldOptions } from './retailcrm/recording-hold.js';
export {
  buildCallRecord,
  createRetailCrmSink,
  lostRecording,
  type RetailCrmSinkOptions,
} from './retailcrm/retailcrm-sink.js';
