import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import {
  type ClaimResult,
  type CommandBus,
  type CommandBusOptions,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_DELIVERIES,
  type NewCommand,
  type PhoneCommand,
  type WakeListener,
  WakeRegistry,
} from '../command-bus.js';

// KEYS: cmd hash, device queue; ARGV: id, json, deviceId, wake channel
const ENQUEUE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return redis.call('HGET', KEYS[1], ARGV[1]) end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return false`;

// KEYS: cmd hash, deliveries hash, then queue and in-flight zset of each device; ARGV: now, new deadline, max
// deliveries. Claims for every device given (a burst of polls costs one script call per batch, not one per poll).
// Per device: expired in-flight commands go first (re-delivery), then the queue head; ids already acked are
// skipped; commands out of deliveries are removed and returned after the 4 fixed slots (dead letters).
// Reply: one array per device, {id|'', data|'', deliveries, retryAt|'', dead data...}
const CLAIM = `
local replies = {}
for d = 3, #KEYS, 2 do
  local queue, inflight = KEYS[d], KEYS[d + 1]
  local dead = {}
  local reply = {'', '', 0, ''}
  for i = 1, 64 do
    local id = redis.call('ZRANGEBYSCORE', inflight, '-inf', ARGV[1], 'LIMIT', 0, 1)[1]
    local expired = id ~= nil
    if not id then id = redis.call('LPOP', queue) end
    if not id then break end
    local data = redis.call('HGET', KEYS[1], id)
    if not data then
      redis.call('ZREM', inflight, id)
    elseif expired and tonumber(redis.call('HGET', KEYS[2], id) or '0') >= tonumber(ARGV[3]) then
      redis.call('ZREM', inflight, id)
      redis.call('HDEL', KEYS[1], id)
      redis.call('HDEL', KEYS[2], id)
      table.insert(dead, data)
    else
      redis.call('ZADD', inflight, ARGV[2], id)
      reply = {id, data, redis.call('HINCRBY', KEYS[2], id, 1), ''}
      break
    end
  end
  if reply[1] == '' then
    local nxt = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
    if nxt[2] then reply[4] = nxt[2] end
  end
  for _, dl in ipairs(dead) do table.insert(reply, dl) end
  table.insert(replies, reply)
end
return replies`;

/** Most devices claimed by one script call: bounds how long Redis is busy with one call (~1 ms). */
const CLAIM_BATCH = 256;

// KEYS: in-flight zset, cmd hash, deliveries hash, queue; ARGV: id
const ACK = `
local data = redis.call('HGET', KEYS[2], ARGV[1])
if not data then return false end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[4], 1, ARGV[1])
return data`;

// KEYS: in-flight zset, queue, cmd hash; ARGV: id, deviceId, wake channel
const RELEASE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  redis.call('PUBLISH', ARGV[3], ARGV[2])
end
return 1`;

/** A Lua script sent by its SHA1 (EVALSHA): the body travels only when Redis does not know it yet. */
class LuaScript {
  readonly sha: string;
  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }
}

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

/** Runs a script by SHA1, loading it with EVAL when this Redis has not seen it (a restart flushes the cache). */
async function run(redis: Redis, script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return redis.eval(script.body, keys.length, ...keys, ...args);
  }
}

const ENQUEUE_SCRIPT = new LuaScript(ENQUEUE);
const CLAIM_SCRIPT = new LuaScript(CLAIM);
const ACK_SCRIPT = new LuaScript(ACK);
const RELEASE_SCRIPT = new LuaScript(RELEASE);

export interface RedisCommandBusOptions extends CommandBusOptions {
  /**
   * Connection for commands and queues; the bus `duplicate()`s it once for the wake-up subscription (closed by
   * `close()`). The bus never closes this one.
   */
  redis: Redis;
  /** Prefix of every key and of the wake-up channel, e.g. `callbridge:phone:`. */
  keyPrefix?: string;
}

/**
 * Marks "a poll started on instance X" messages on the wake channel (device ids never start with it):
 * `\u0001<instance>\u0001<device>`, one device per message (still understood from older instances), or
 * `\u0002<instance>\u0002<device>\u0002<device>...`, every poll an instance started in one event-loop turn.
 */
const POLL_MARK = '\u0001';
const POLLS_MARK = '\u0002';

interface PendingClaim {
  deviceId: string;
  resolve: (result: ClaimResult) => void;
  reject: (err: unknown) => void;
}

type StoredCommand = Omit<PhoneCommand, 'deliveries'>;

/**
 * Redis implementation for several server instances: a durable list per device, an in-flight sorted set
 * (score = ack deadline), atomic Lua claim (exactly one poll gets a command) and one shared pub/sub
 * subscriber connection per bus as the wake-up signal. Wake-ups are hints: after a subscriber reconnect
 * every held poll re-checks its queue, so a wake-up lost in the gap costs one claim, not a whole poll.
 */
export class RedisCommandBus implements CommandBus {
  private readonly redis: Redis;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly ackTimeoutMs: number;
  private readonly maxDeliveries: number;
  private readonly onDeadLetter: (command: PhoneCommand) => void;
  private readonly wakes = new WakeRegistry();
  private readonly instanceId = randomUUID();
  private readonly pollListeners = new Set<(deviceId: string) => void>();
  private subscriber: Redis | undefined;
  /**
   * Claims asked for in this event-loop turn after its first: one script call per batch of devices (10k polls
   * arriving at once cost a few dozen calls instead of 10k).
   */
  private claims: PendingClaim[] = [];
  private batching = false;
  /** Polls started in this event-loop turn, announced in one message. */
  private announced: string[] = [];

  constructor(options: RedisCommandBusOptions) {
    this.redis = options.redis;
    this.clock = options.clock;
    this.prefix = options.keyPrefix ?? 'callbridge:phone:';
    this.channel = `${this.prefix}wake`;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.onDeadLetter = options.onDeadLetter ?? (() => {});
  }

  private keys(deviceId: string) {
    return {
      queue: `${this.prefix}q:${deviceId}`,
      inFlight: `${this.prefix}f:${deviceId}`,
      commands: `${this.prefix}cmd`,
      deliveries: `${this.prefix}n`,
    };
  }

  async enqueue(input: NewCommand): Promise<PhoneCommand> {
    const k = this.keys(input.deviceId);
    const stored: StoredCommand = { ...input, enqueuedAt: this.clock.now() };
    const existing = (await run(
      this.redis,
      ENQUEUE_SCRIPT,
      [k.commands, k.queue],
      [input.id, JSON.stringify(stored), input.deviceId, this.channel],
    )) as string | null;
    if (existing) return { ...(JSON.parse(existing) as StoredCommand), deliveries: 0 };
    return { ...stored, deliveries: 0 };
  }

  claim(deviceId: string): Promise<ClaimResult> {
    return new Promise((resolve, reject) => {
      const pending = { deviceId, resolve, reject };
      if (this.batching) {
        this.claims.push(pending);
        return;
      }
      // The first claim of a turn goes at once (a woken poll waits for nothing); the ones that follow in the same
      // turn (setImmediate, not nextTick: polls read from many sockets) share one script call.
      this.batching = true;
      setImmediate(this.flushClaims);
      this.claimOne(pending, this.clock.now());
    });
  }

  private readonly flushClaims = (): void => {
    this.batching = false;
    const batch = this.claims;
    this.claims = [];
    const now = this.clock.now();
    for (let i = 0; i < batch.length; i += CLAIM_BATCH) this.claimMany(batch.slice(i, i + CLAIM_BATCH), now);
  };

  private claimOne(pending: PendingClaim, now: number): void {
    this.claimMany([pending], now);
  }

  /** One script call claims for every device of the batch; each poll gets its own reply. */
  private claimMany(batch: PendingClaim[], now: number): void {
    const keys = [`${this.prefix}cmd`, `${this.prefix}n`];
    for (const { deviceId } of batch) keys.push(`${this.prefix}q:${deviceId}`, `${this.prefix}f:${deviceId}`);
    run(this.redis, CLAIM_SCRIPT, keys, [now, now + this.ackTimeoutMs, this.maxDeliveries]).then(
      (replies) => {
        batch.forEach((pending, i) => {
          const reply = (replies as Array<Array<string | number>>)[i];
          if (reply) pending.resolve(this.claimResult(reply));
          else pending.reject(new Error('Redis claim script returned no reply for this device'));
        });
      },
      (err: unknown) => {
        for (const pending of batch) pending.reject(err);
      },
    );
  }

  private claimResult(reply: Array<string | number>): ClaimResult {
    for (const dead of reply.slice(4)) {
      this.onDeadLetter({ ...(JSON.parse(String(dead)) as StoredCommand), deliveries: this.maxDeliveries });
    }
    if (reply[0] !== '') {
      return { command: { ...(JSON.parse(String(reply[1])) as StoredCommand), deliveries: Number(reply[2]) } };
    }
    return reply[3] === '' ? {} : { retryAt: Number(reply[3]) };
  }

  async get(commandId: string): Promise<PhoneCommand | undefined> {
    const data = await this.redis.hget(`${this.prefix}cmd`, commandId);
    if (!data) return undefined;
    const deliveries = Number((await this.redis.hget(`${this.prefix}n`, commandId)) ?? 0);
    return { ...(JSON.parse(data) as StoredCommand), deliveries };
  }

  async ack(commandId: string): Promise<PhoneCommand | undefined> {
    const current = await this.get(commandId);
    if (!current) return undefined;
    const k = this.keys(current.deviceId);
    const data = (await run(this.redis, ACK_SCRIPT, [k.inFlight, k.commands, k.deliveries, k.queue], [commandId])) as
      | string
      | null;
    // A concurrent ack won the race: only one caller sees the command.
    return data ? current : undefined;
  }

  async release(commandId: string): Promise<void> {
    const current = await this.get(commandId);
    if (!current) return;
    const k = this.keys(current.deviceId);
    await run(
      this.redis,
      RELEASE_SCRIPT,
      [k.inFlight, k.queue, k.commands],
      [commandId, current.deviceId, this.channel],
    );
  }

  async size(deviceId: string): Promise<number> {
    const k = this.keys(deviceId);
    const [queued, flying] = await Promise.all([this.redis.llen(k.queue), this.redis.zcard(k.inFlight)]);
    return queued + flying;
  }

  subscribe(deviceId: string, onWake: () => void): () => void {
    this.ensureSubscriber();
    return this.wakes.add(deviceId, onWake);
  }

  watch(deviceId: string, onWake: WakeListener): void {
    this.ensureSubscriber();
    this.wakes.addListener(deviceId, onWake);
  }

  unwatch(deviceId: string, onWake: WakeListener): void {
    this.wakes.remove(deviceId, onWake);
  }

  announcePoll(deviceId: string): void {
    if (this.announced.push(deviceId) === 1) setImmediate(this.flushAnnounced);
  }

  private readonly flushAnnounced = (): void => {
    const devices = this.announced;
    this.announced = [];
    const message = `${POLLS_MARK}${this.instanceId}${POLLS_MARK}${devices.join(POLLS_MARK)}`;
    void this.redis.publish(this.channel, message).catch(() => {});
  };

  onPollElsewhere(listener: (deviceId: string) => void): () => void {
    this.ensureSubscriber();
    this.pollListeners.add(listener);
    return () => this.pollListeners.delete(listener);
  }

  private onMessage(message: string): void {
    const mark = message[0];
    if (mark !== POLL_MARK && mark !== POLLS_MARK) {
      this.wakes.wake(message);
      return;
    }
    const end = message.indexOf(mark, 1);
    if (end < 0 || message.slice(1, end) === this.instanceId || this.pollListeners.size === 0) return;
    const devices = mark === POLL_MARK ? [message.slice(end + 1)] : message.slice(end + 1).split(POLLS_MARK);
    for (const deviceId of devices) for (const listener of this.pollListeners) listener(deviceId);
  }

  private ensureSubscriber(): void {
    if (!this.subscriber) {
      // One subscriber connection per bus, one channel: every instance hears every wake-up and filters locally,
      // so there is no SUBSCRIBE/UNSUBSCRIBE churn per poll.
      const subscriber = this.redis.duplicate();
      subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
      subscriber.on('error', () => {
        // ioredis reconnects and re-subscribes by itself; the 'ready' handler below recovers lost wake-ups.
      });
      subscriber.on('ready', () => {
        // Messages published while the subscriber was (re)connecting are lost: once the subscription is active
        // again, every held poll re-checks its queue, so a command enqueued in the gap is not held back.
        void subscriber.subscribe(this.channel).then(
          () => this.wakes.wakeAll(),
          () => {},
        );
      });
      void subscriber.subscribe(this.channel).catch(() => {});
      this.subscriber = subscriber;
    }
  }

  /** Resolves once the wake-up subscription is active (useful before a test enqueues from another process). */
  async ready(): Promise<void> {
    this.ensureSubscriber();
    const subscriber = this.subscriber!;
    if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
