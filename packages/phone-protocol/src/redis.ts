// `@callbridge/phone-protocol/redis`: the Redis implementations of the ports (command bus and stores). A separate
// entry so the root entry's code and types never reference `ioredis` (an optional peer).
export { RedisCommandBus, type RedisCommandBusOptions } from './redis/command-bus.js';
export {
  RedisDeviceRegistry,
  RedisLoginAttemptStore,
  RedisQrTokenStore,
  RedisRevokedTokenStore,
  type RedisStoreOptions,
  RedisUserStore,
} from './redis/stores.js';
