// `@callbridge/telephony-events/redis`: the BullMQ delivery queue. A separate entry so the root entry never loads
// `bullmq` or `ioredis` (optional peers: install them only to use this queue).
export { createRedisQueue, type RedisDeliveryQueue, type RedisQueueOptions } from './queue/redis-queue.js';
