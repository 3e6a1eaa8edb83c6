import type { Redis } from 'ioredis';
import type { DeviceRecord, DeviceRegistry } from '../devices.js';
import type { LoginAttemptStore } from '../login-throttle.js';
import type { QrTokenStore } from '../qr-tokens.js';
import type { RevokedTokenStore } from '../revoked-tokens.js';
import type { PhoneUser, UserStore } from '../users.js';

/** Connection and key prefix of a Redis store. */
export interface RedisStoreOptions {
  /** An ioredis connection (shared with other stores is fine). */
  redis: Redis;
  /** Prefix of every key (default `callbridge:phone:`). */
  keyPrefix?: string;
}

const DEFAULT_PREFIX = 'callbridge:phone:';

/** Connection + key prefix shared by every Redis store. */
abstract class RedisStore {
  /** The connection. */
  protected readonly redis: Redis;
  /** Prefix of every key. */
  protected readonly prefix: string;
  constructor(options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  }
}

/** Users as JSON in one hash by id plus a username -> id index hash. */
export class RedisUserStore extends RedisStore implements UserStore {
  async findByUsername(username: string): Promise<PhoneUser | undefined> {
    const id = await this.redis.hget(`${this.prefix}users:by-name`, username);
    return id ? this.findById(id) : undefined;
  }
  async findById(id: string): Promise<PhoneUser | undefined> {
    const data = await this.redis.hget(`${this.prefix}users`, id);
    return data ? (JSON.parse(data) as PhoneUser) : undefined;
  }
  async save(user: PhoneUser): Promise<void> {
    const previous = await this.findById(user.id);
    const tx = this.redis.multi().hset(`${this.prefix}users`, user.id, JSON.stringify(user));
    if (previous && previous.username !== user.username) tx.hdel(`${this.prefix}users:by-name`, previous.username);
    await tx.hset(`${this.prefix}users:by-name`, user.username, user.id).exec();
  }
}

// KEYS: devices hash, the claimer's device set; ARGV: device id, record JSON, user id, tenant ('' = none).
// Stores the record unless another (tenant, user) owns the device; one script, so two claimers cannot both win.
const CLAIM_DEVICE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local owner = cjson.decode(current)
  local tenant = owner.tenant
  if type(tenant) ~= 'string' then tenant = '' end
  if tostring(owner.userId) ~= ARGV[3] or tenant ~= ARGV[4] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

/** Devices as JSON in one hash, plus a set of device ids per user. */
export class RedisDeviceRegistry extends RedisStore implements DeviceRegistry {
  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const data = await this.redis.hget(`${this.prefix}devices`, deviceId);
    return data ? (JSON.parse(data) as DeviceRecord) : undefined;
  }
  async put(record: DeviceRecord): Promise<void> {
    const previous = await this.get(record.deviceId);
    const tx = this.redis.multi().hset(`${this.prefix}devices`, record.deviceId, JSON.stringify(record));
    if (previous && previous.userId !== record.userId) {
      tx.srem(`${this.prefix}devices:user:${previous.userId}`, record.deviceId);
    }
    await tx.sadd(`${this.prefix}devices:user:${record.userId}`, record.deviceId).exec();
  }
  async claim(record: DeviceRecord): Promise<boolean> {
    const claimed = await this.redis.eval(
      CLAIM_DEVICE,
      2,
      `${this.prefix}devices`,
      `${this.prefix}devices:user:${record.userId}`,
      record.deviceId,
      JSON.stringify(record),
      record.userId,
      record.tenant ?? '',
    );
    return claimed === 1;
  }
  async release(deviceId: string): Promise<DeviceRecord | undefined> {
    const previous = await this.get(deviceId);
    if (!previous) return undefined;
    await this.redis
      .multi()
      .hdel(`${this.prefix}devices`, deviceId)
      .srem(`${this.prefix}devices:user:${previous.userId}`, deviceId)
      .exec();
    return previous;
  }
  async listByUser(userId: string): Promise<DeviceRecord[]> {
    const ids = await this.redis.smembers(`${this.prefix}devices:user:${userId}`);
    if (ids.length === 0) return [];
    const rows = await this.redis.hmget(`${this.prefix}devices`, ...ids);
    return rows.flatMap((row) => (row ? [JSON.parse(row) as DeviceRecord] : []));
  }
  async list(): Promise<DeviceRecord[]> {
    const rows = await this.redis.hvals(`${this.prefix}devices`);
    return rows.map((row) => JSON.parse(row) as DeviceRecord);
  }
}

/** One key per token digest with a PX expiry; GETDEL makes redemption single-use across instances. */
export class RedisQrTokenStore extends RedisStore implements QrTokenStore {
  async put(digest: string, userId: string, expiresAt: number, ttlMs: number): Promise<void> {
    const px = Math.max(1, Math.ceil(ttlMs));
    await this.redis.set(`${this.prefix}qr:${digest}`, JSON.stringify({ userId, expiresAt }), 'PX', px);
  }
  async take(digest: string, now: number): Promise<string | undefined> {
    const data = await this.redis.getdel(`${this.prefix}qr:${digest}`);
    if (!data) return undefined;
    const entry = JSON.parse(data) as { userId: string; expiresAt: number };
    // The injected clock decides, not only Redis' own expiry.
    return entry.expiresAt > now ? entry.userId : undefined;
  }
}

// KEYS: counter hash; ARGV: now, window ms, now + window. A hash {c: count, r: resetAt} so the injected clock decides.
const INCREMENT_ATTEMPTS = `
if tonumber(redis.call('HGET', KEYS[1], 'r') or '0') <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'r', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HINCRBY', KEYS[1], 'c', 1)`;

/** Failed-login counters shared by every instance: one hash per key, incremented by a Lua script. */
export class RedisLoginAttemptStore extends RedisStore implements LoginAttemptStore {
  async get(key: string, now: number): ReturnType<LoginAttemptStore['get']> {
    const [count, resetAt] = await this.redis.hmget(`${this.prefix}login:${key}`, 'c', 'r');
    const end = Number(resetAt ?? 0);
    return end > now ? { count: Number(count ?? 0), resetAt: end } : { count: 0, resetAt: now };
  }
  async increment(key: string, windowMs: number, now: number): Promise<void> {
    const window = Math.max(1, Math.ceil(windowMs));
    await this.redis.eval(INCREMENT_ATTEMPTS, 1, `${this.prefix}login:${key}`, now, window, now + window);
  }
  async delete(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}login:${key}`);
  }
}

/** Used refresh-token ids as keys that expire with the token; `SET NX` makes the first use win across instances. */
export class RedisRevokedTokenStore extends RedisStore implements RevokedTokenStore {
  async revoke(jti: string, expiresAt: number, now: number): Promise<boolean> {
    const px = Math.max(1, Math.ceil(expiresAt - now));
    return (await this.redis.set(`${this.prefix}revoked:${jti}`, '1', 'PX', px, 'NX')) === 'OK';
  }
  async revokeFamily(family: string, until: number, now: number): Promise<void> {
    const px = Math.max(1, Math.ceil(until - now));
    // The stored deadline is what counts (the injected clock decides), Redis' expiry only cleans up.
    await this.redis.set(`${this.prefix}revoked-family:${family}`, String(until), 'PX', px);
  }
  async isFamilyRevoked(family: string, now: number): Promise<boolean> {
    const until = await this.redis.get(`${this.prefix}revoked-family:${family}`);
    return until !== null && Number(until) > now;
  }
}
