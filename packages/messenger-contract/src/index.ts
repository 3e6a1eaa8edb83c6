export {
  type AdapterCapabilities,
  type AdapterWarning,
  type ProviderAdapter,
  type SendOptions,
  type SendResult,
  type SessionControl,
  type SessionStatus,
  toWorkerResult,
  type WebhookContext,
  type WebhookParseResult,
  type WebhookVerifyRequest,
} from './adapter.js';
export {
  AVITO_API_URL,
  AVITO_MAX_TEXT_LENGTH,
  AVITO_SCOPES,
  AVITO_USER_TARGET_PREFIX,
  type AvitoAdapter,
  type AvitoAdapterOptions,
  type AvitoSubscription,
  type AvitoWebhook,
  AvitoWebhookSchema,
  avitoWebhookToMessageIn,
  createAvitoAdapter,
} from './adapters/avito.js';
export {
  type AvitoChatCache,
  type AvitoTokenStore,
  type AvitoTokens,
  InMemoryAvitoChatCache,
  InMemoryAvitoTokenStore,
} from './adapters/avito-stores.js';
export {
  createTelegramWorkerAdapter,
  isTelegramLoginTransitionAllowed,
  TELEGRAM_LOGIN_STATES,
  TELEGRAM_WORKER_ROUTES,
  type TelegramLoginState,
  type TelegramLoginStatus,
  type TelegramWorkerAdapter,
  type TelegramWorkerAdapterOptions,
} from './adapters/telegram-worker.js';
export {
  createWhatsAppWebAdapter,
  type WhatsAppWebAdapter,
  type WhatsAppWebAdapterOptions,
} from './adapters/whatsapp-web.js';
export {
  constantTimeEqual,
  createPublicKeyAuth,
  extractProviderToken,
  type HeaderBag,
  InMemoryProviderTokenStore,
  type ProviderTokenStore,
  type PublicKeyAuth,
  type PublicKeyAuthOptions,
  type PublicKeyCheck,
  PublicKeyConfigError,
  type QueryBag,
  verifyProviderToken,
  type WebhookRequestParts,
} from './auth.js';
export {
  type InboundDedup,
  type InboundKey,
  InMemoryInboundDedup,
  type InMemoryInboundDedupOptions,
  inboundKeyString,
} from './dedup.js';
export {
  MemoryAvitoChatCache,
  MemoryAvitoTokenStore,
  MemoryInboundDedup,
  type MemoryInboundDedupOptions,
  MemoryProviderTokenStore,
  MemoryTenantKeyStore,
} from './deprecated.js';
export {
  AdapterError,
  type AdapterErrorOptions,
  type ErrorCode,
  ErrorCodes,
  InvalidTargetError,
  isMessengerContractError,
  MessengerContractError,
  maskIdentifier,
} from './errors.js';
export {
  checkOutboxGuards,
  type GuardWarning,
  isWhitelisted,
  type OutboxGuardConfig,
  type OutboxGuardDecision,
  type OutboxGuardInput,
  parseWhitelist,
  type Whitelist,
} from './guards.js';
export { parseRetryAfter } from './http.js';
export {
  INBOX_QUEUE_KEY,
  inboundKeyOf,
  OUTBOX_QUEUE_KEY,
  sendIdempotencyKey,
  WA_QR_TTL_SECONDS,
  waQrCacheKeys,
} from './keys.js';
export {
  type ContractIssue,
  type ParseResult,
  parseMessageIn,
  parseTransportMessage,
  type ResolvedTarget,
  resolveTarget,
} from './normalise.js';
export { type Clock, type FetchLike, type Logger, silentLogger, systemClock } from './ports.js';
export {
  type Attachment,
  AttachmentSchema,
  CHANNELS,
  type Channel,
  ChannelSchema,
  type DeliveryStatus,
  type DeliveryStatusEvent,
  DeliveryStatusSchema,
  type InboundMedia,
  InboundMediaSchema,
  type IncomingMessage,
  MESSAGE_IN_EVENTS,
  type MessageIn,
  type MessageInEvent,
  type MessageInInput,
  MessageInSchema,
  messageInJsonSchema,
  type QrEvent,
  type ReadyEvent,
  TenantSchema,
  type TransportMessage,
  type TransportMessageInput,
  TransportMessageSchema,
  transportMessageJsonSchema,
  type WorkerResult,
  WorkerResultSchema,
} from './schemas.js';
export {
  fillTelegramPeer,
  resolveTelegramTarget,
  type TelegramTarget,
  type TelegramTargetInput,
  telegramTargetKey,
  telegramTargetToWire,
} from './telegram-target.js';
export {
  connectLink,
  generateTenantKey,
  getOrCreateTenantKey,
  InMemoryTenantKeyStore,
  KeyAlreadyExistsError,
  type TenantKeyStore,
  verifyTenantKey,
} from './tenant-keys.js';
export { normaliseTimestamp, TimestampSchema } from './timestamp.js';
export { SPECIFICATION_VERSION, type SpecificationVersion } from './version.js';
export { WebhookPayloadError } from './webhook-error.js';
export {
  createWebhookHandler,
  type WebhookHandlerOptions,
  type WebhookHttpRequest,
  type WebhookHttpResponse,
} from './webhook-handler.js';
export {
  type NormaliseWhatsAppOptions,
  normaliseWhatsAppAddress,
  type WhatsAppAddress,
  whatsAppAddressKey,
} from './whatsapp-address.js';
