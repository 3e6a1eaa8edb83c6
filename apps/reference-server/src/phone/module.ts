import { createHmac, randomUUID } from 'node:crypto';
import {
  type Clock,
  type CommandBus,
  createPhoneProtocol,
  type DeviceRecord,
  type PhoneCommand,
  type PhoneProtocol,
  type PhoneProtocolOptions,
  systemClock,
} from '@callbridge/phone-protocol';
import { createPhoneRouter } from '@callbridge/phone-protocol/express';
import { RedisCommandBus, RedisLoginAttemptStore, RedisRevokedTokenStore } from '@callbridge/phone-protocol/redis';
import type { Router } from 'express';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RetailCrmEgress } from '../egress/retailcrm-egress.js';
import type { Storage } from '../storage/types.js';
import { PhoneCallStore } from './calls.js';
import { recordManualCall } from './manual-calls.js';
import { SqlCommandBus } from './sql-command-bus.js';
import {
  type PhoneAccount,
  SqlDeviceRegistry,
  SqlPhoneUserStore,
  SqlQrTokenStore,
  SqlRevokedTokenStore,
} from './stores.js';
import { PhoneTelemetryStore, type TelemetrySummary } from './telemetry.js';
import { CallResultUploader, type UploaderOptions } from './uploader.js';

export const PHONE_COMMANDS_QUEUE = 'phone-commands';

export interface PhoneModuleOptions {
  storage: Storage;
  /** Phone JWTs are signed with a key derived from this (the account-link secret), never with it directly. */
  jwtSecret: string;
  /** Call results reach RetailCRM through the server's egress (same policies as PBX events). */
  egress: Pick<RetailCrmEgress, 'config' | 'uploadCalls'>;
  logger: Logger;
  /** With REDIS_URL the long-poll command bus lives in Redis (several instances); else in SQL. */
  redisUrl?: string;
  /** Redis key prefix (tests use a random one); `:phone:` is appended. */
  redisPrefix?: string;
  clock?: Clock;
  /** A device seen longer ago than this does not get click-to-call commands (AMI fallback); default 10 min. */
  onlineWindowMs?: number;
  ackTimeoutMs?: number;
  pull?: PhoneProtocolOptions['pull'];
  upload?: Pick<UploaderOptions, 'retryDelaysMs' | 'maxAttempts' | 'sweepIntervalMs' | 'leaseMs' | 'timeZone'>;
}

export interface DialRequest {
  enterpriseNumber: string;
  extension: string;
  retailcrmUserId: string | null;
  phone: string;
}

export interface DialResult {
  commandId: string;
  deviceId: string;
  username: string;
}

/** Click-to-call through the manager's phone; `undefined` = no usable device (caller falls back to AMI). */
export interface PhoneDialer {
  dial(request: DialRequest): Promise<DialResult | undefined>;
}

export interface PhoneModule {
  protocol: PhoneProtocol;
  /** The ten `/api/token/*` + `/api/phone/*` routes; mount at the app root before the global body parsers. */
  router: Router;
  dialer: PhoneDialer;
  users: SqlPhoneUserStore;
  devices: SqlDeviceRegistry;
  calls: PhoneCallStore;
  uploader: CallResultUploader;
  bus: CommandBus;
  onlineWindowMs: number;
  clock: Clock;
  stats(): Promise<PhoneStats>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface PhoneStats {
  command_bus: 'redis' | 'sql';
  held_polls: number;
  commands_waiting: number | null;
  devices: { registered: number; online: number; heartbeat_recent: number; queue_stuck: number; stuck_items: number };
  /** Most recently seen devices; ids are masked (this endpoint is unauthenticated). */
  device_health: Array<Record<string, unknown>>;
  telemetry_last_hour: TelemetrySummary;
  calls: Record<string, number>;
  uploads: { uploaded: number; retried: number; failed: number };
}

const ONLINE_MS = 90_000;
const HOUR_MS = 3_600_000;

export const maskDeviceId = (id: string): string => (id.length <= 4 ? '****' : `${id.slice(0, 4)}…`);

function deviceHealth(d: DeviceRecord, now: number): Record<string, unknown> {
  const ago = (t: number | undefined) => (t === undefined ? null : Math.round((now - t) / 1000));
  return {
    device: maskDeviceId(d.deviceId),
    app_version: d.appVersion ?? null,
    last_seen_s_ago: ago(d.lastSeenAt),
    last_heartbeat_s_ago: ago(d.lastHeartbeatAt),
    last_poll_code: d.lastPollCode ?? null,
    encryption_enabled: d.encryptionEnabled ?? null,
    queue_stuck: d.queueStuck,
    stuck_count: d.stuckCount,
    oldest_stuck_age_sec: d.oldestStuckAgeSec ?? null,
    stuck_by_type: d.stuckByType,
  };
}

/**
 * The phone API on the server's storage: users, devices, QR tokens, commands (SQL, or Redis with REDIS_URL),
 * telemetry and the click-to-call loop (make-call -> device command -> calls/update -> RetailCRM upload).
 */
export function createPhoneModule(o: PhoneModuleOptions): PhoneModule {
  const db = o.storage.sql;
  const clock = o.clock ?? systemClock;
  const users = new SqlPhoneUserStore(db);
  const devices = new SqlDeviceRegistry(db);
  const calls = new PhoneCallStore(db);
  const telemetry = new PhoneTelemetryStore(db);
  const storage = o.storage;
  const onlineWindowMs = o.onlineWindowMs ?? 600_000;

  const onDeadLetter = (command: PhoneCommand) => {
    o.logger.warn({ commandId: command.id, deliveries: command.deliveries }, 'phone command never acknowledged');
    void storage
      .insertDeadLetter({
        queue: PHONE_COMMANDS_QUEUE,
        jobId: command.id,
        payload: { ...command, deviceId: maskDeviceId(command.deviceId) },
        errorMessage: 'not acknowledged by the device',
        attempts: command.deliveries,
      })
      .catch((err) => o.logger.error({ err }, 'dead letter write failed'));
  };
  let redis: Redis | undefined;
  let bus: CommandBus;
  if (o.redisUrl) {
    redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 3 });
    redis.on('error', (err) => o.logger.warn({ err: err.message }, 'phone redis error'));
    bus = new RedisCommandBus({
      redis,
      keyPrefix: `${o.redisPrefix ?? 'callbridge'}:phone:`,
      clock,
      ackTimeoutMs: o.ackTimeoutMs,
      onDeadLetter,
    });
  } else {
    bus = new SqlCommandBus(db, { clock, ackTimeoutMs: o.ackTimeoutMs, onDeadLetter });
  }

  const uploader = new CallResultUploader({
    calls,
    deadLetters: storage,
    egress: o.egress,
    clock,
    logger: o.logger,
    ...o.upload,
  });

  const protocol = createPhoneProtocol({
    // A derived key: a leaked phone token can never be replayed as an account link, and vice versa.
    auth: { secret: createHmac('sha256', o.jwtSecret).update('callbridge phone-protocol v1').digest('hex') },
    users,
    devices,
    commands: bus,
    qrTokens: new SqlQrTokenStore(db),
    clock,
    pull: o.pull,
    // Several instances share one failed-login count through Redis; otherwise each process counts its own.
    ...(redis
      ? {
          loginThrottle: {
            store: new RedisLoginAttemptStore({ redis, keyPrefix: `${o.redisPrefix ?? 'callbridge'}:phone:` }),
          },
        }
      : {}),
    // Used refresh tokens and revoked families, shared by every instance (refresh tokens work once).
    revokedTokens: redis
      ? new RedisRevokedTokenStore({ redis, keyPrefix: `${o.redisPrefix ?? 'callbridge'}:phone:` })
      : new SqlRevokedTokenStore(db),
    // Devices belong to (enterprise, user): one enterprise's user never takes over another's device.
    tenantOf: (user) => (user as PhoneAccount).enterpriseNumber ?? undefined,
    generateCommandId: () => randomUUID(),
    async onCallResult({ user, update }) {
      // Runs before the ack: if the write fails the device gets 503 and sends the result again.
      const first = await calls.recordResult(update.call_request_id, user.id, update, clock.now());
      // A call dialled by hand has no command: filed into the same outbox, uploaded the same way.
      const manual =
        !first &&
        update.action_source === 'manual' &&
        (await recordManualCall(
          { users, devices, calls, config: (n) => o.egress.config(n) },
          user.id,
          update,
          clock.now(),
        ));
      if (first || manual) uploader.kick();
    },
    async onTelemetry(batch, { user }) {
      await telemetry.addBatch(batch, user.id, clock.now());
    },
    async onLogs(bundle, { user }) {
      await telemetry.addLogs(bundle, user.id, clock.now());
    },
    logger: o.logger,
  });

  const dialer: PhoneDialer = {
    async dial(request) {
      const user = await users.findByExtension(request.enterpriseNumber, request.extension);
      if (!user?.isActive) return undefined;
      const now = clock.now();
      const device = (await devices.listByUser(user.id)).find(
        (d) => d.tenant === request.enterpriseNumber && now - d.lastSeenAt <= onlineWindowMs,
      );
      if (!device) return undefined;
      const commandId = randomUUID();
      await calls.insert({
        commandId,
        enterpriseNumber: request.enterpriseNumber,
        retailcrmUserId: request.retailcrmUserId,
        extension: request.extension,
        phone: request.phone,
        phoneUserId: user.id,
        deviceId: device.deviceId,
        createdAt: now,
      });
      await protocol.enqueueCommand({ deviceId: device.deviceId }, { id: commandId, phone: request.phone });
      return { commandId, deviceId: device.deviceId, username: user.username };
    },
  };

  return {
    protocol,
    router: createPhoneRouter(protocol),
    dialer,
    users,
    devices,
    calls,
    uploader,
    bus,
    onlineWindowMs,
    clock,
    async stats() {
      const now = clock.now();
      const all = await devices.list();
      return {
        command_bus: redis ? 'redis' : 'sql',
        held_polls: protocol.stats().heldPolls,
        commands_waiting: bus instanceof SqlCommandBus ? await bus.total() : null,
        devices: {
          registered: all.length,
          online: all.filter((d) => now - d.lastSeenAt <= ONLINE_MS).length,
          heartbeat_recent: all.filter((d) => d.lastHeartbeatAt !== undefined && now - d.lastHeartbeatAt <= HOUR_MS)
            .length,
          queue_stuck: all.filter((d) => d.queueStuck).length,
          stuck_items: all.reduce((sum, d) => sum + d.stuckCount, 0),
        },
        device_health: all.slice(0, 20).map((d) => deviceHealth(d, now)),
        telemetry_last_hour: await telemetry.summary(now - HOUR_MS),
        calls: await calls.countsByState(),
        uploads: { ...uploader.counters },
      };
    },
    async start() {
      if (bus instanceof RedisCommandBus) await bus.ready();
      uploader.start();
    },
    async close() {
      await protocol.close();
      await uploader.close();
      await bus.close();
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}
