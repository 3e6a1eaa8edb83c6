import type { PacingRequest, PacingStore } from '../pacing-limiter.js';

/**
 * The part of an ioredis client this store uses (`Redis` and `Cluster` both fit). Typed structurally so the
 * package does not load ioredis; pass your own connection.
 */
export interface RedisScriptClient {
  /** `EVAL script numKeys ...keys ...args`. */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

// Times are microseconds from Redis' own clock (TIME), so processes on different hosts agree. Numbers are
// formatted with %.0f: Lua's tostring would print large values in exponent form and lose precision.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local hold = tonumber(ARGV[4])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < nextAt then return nextAt - now end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= limit then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1000, math.min(tonumber(first[2]) - now, 5000))
end
redis.call('ZADD', KEYS[2], string.format('%.0f', now + hold), ARGV[1])
if now - nextAt > interval then nextAt = now end
nextAt = nextAt + interval
local ttl = math.ceil((hold + interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', nextAt), 'PX', ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 0
`;

const COMPLETE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
return 0
`;

/**
 * Pacing state in Redis under `key`: every process that uses the same key (one RetailCRM API key) shares one
 * schedule and one count, so together they stay under the limit. Same rules as the in-process store.
 */
export function createRedisPacingStore(redis: RedisScriptClient, key: string): PacingStore {
  const scheduleKey = `${key}:next`;
  const countedKey = `${key}:counted`;
  return {
    async tryAcquire(request: PacingRequest) {
      const waitUs = await redis.eval(
        ACQUIRE,
        2,
        scheduleKey,
        countedKey,
        request.id,
        Math.round(request.intervalMs * 1000),
        request.limit,
        Math.round(request.holdMs * 1000),
      );
      return Number(waitUs) / 1000;
    },
    async complete(id, windowMs) {
      await redis.eval(COMPLETE, 1, countedKey, id, Math.round(windowMs * 1000));
    },
  };
}
