import type { Redis } from 'ioredis';
import type { DeviceRecord, DeviceRegistry } from '../devices.js';
import type { QrTokenStore } from '../qr-tokens.js';
import type { PhoneUser, UserStore } from '../users.js';

export interface RedisStoreOptions {
  redis: Redis;
  keyPrefix?: string;
}

const DEFAULT_PREFIX = 'callbridge:phone:';

/** Users as JSON in one hash by id plus a username -> id index hash. */
export class RedisUserStore implements UserStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  }
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

/** Devices as JSON in one hash, plus a set of device ids per user. */
export class RedisDeviceRegistry implements DeviceRegistry {
  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  }
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
export class RedisQrTokenStore implements QrTokenStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  }
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
