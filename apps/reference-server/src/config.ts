import { z } from 'zod';
import { type MessengerConfig, parseMessengerEnv } from './messenger/config.js';
import { DEFAULT_RETAILCRM_HOSTS } from './retailcrm/host-policy.js';
import { isTimeZone } from './time-zone.js';

/** Thrown at start when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Decodes a 32-byte key given as base64 (44 chars) or hex (64 chars). */
function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  const buf = Buffer.from(value, 'base64');
  return buf.length === 32 ? buf : undefined;
}

const url = (what: string) =>
  z.string().refine((v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  }, `must be a valid ${what} URL`);

export const envSchema = z.object({
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(8080)),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  DATABASE_URL: z.preprocess(emptyToUndefined, url('postgres').optional()),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  REDIS_URL: z.preprocess(emptyToUndefined, url('redis').optional()),
  ADMIN_TOKEN: z.preprocess(
    emptyToUndefined,
    z.string({ error: 'is required (admin API bearer token)' }).min(16, 'must be at least 16 characters'),
  ),
  SECRET_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string({ error: 'is required (32-byte AES-256-GCM key, base64 or hex)' })
      .refine(
        (v) => decodeKey(v) !== undefined,
        'must be a 32-byte key encoded as base64 (44 chars) or hex (64 chars)',
      ),
  ),
  JWT_SECRET: z.preprocess(
    emptyToUndefined,
    z
      .string({ error: 'is required (HS256 secret for RetailCRM account links)' })
      .min(32, 'must be at least 32 characters'),
  ),
  /** Unset: `http://localhost:$PORT`, so a server started on another port registers links that reach it. */
  PUBLIC_BASE_URL: z.preprocess(emptyToUndefined, url('http(s)').optional()),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  BODY_LIMIT_JSON: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+(b|kb|mb)?$/i, 'must look like 100kb')
      .default('100kb'),
  ),
  BODY_LIMIT_FORM: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+(b|kb|mb)?$/i, 'must look like 100kb')
      .default('100kb'),
  ),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).default(10_000)),
  AMI_HOST: z.preprocess(emptyToUndefined, z.string().optional()),
  AMI_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(65535).default(5038)),
  AMI_USERNAME: z.preprocess(emptyToUndefined, z.string().optional()),
  AMI_SECRET: z.preprocess(emptyToUndefined, z.string().optional()),
  AMI_CONTEXT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w-]+$/)
      .default('from-internal'),
  ),
  RETAILCRM_MODULE_CODE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default('callbridge-telephony'),
  ),
  // Delivery tuning (see docs/guides/operating-the-server.md); tests shorten these.
  REDIS_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w-]+$/)
      .default('callbridge'),
  ),
  QUEUE_ATTEMPTS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100).default(5)),
  QUEUE_RETRY_BASE_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).default(1000)),
  QUEUE_RETRY_MAX_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).default(60_000)),
  QUEUE_LOCK_DURATION_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).default(30_000)),
  QUEUE_STALLED_INTERVAL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).default(30_000)),
  /** Deliveries one instance runs at once, across every enterprise (each account keeps its own limits). */
  QUEUE_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1000).default(256)),
  DELIVERY_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(2500)),
  /** Telephony calls per second per RetailCRM account (RetailCRM's `/telephony/*` limit is 40 per API key). */
  DELIVERY_RATE_PER_SECOND: z.preprocess(emptyToUndefined, z.coerce.number().positive().max(1000).default(40)),
  /** How long a history upload waits for more of its enterprise's calls to share one `calls/upload` (<= 50 calls). */
  DELIVERY_UPLOAD_WINDOW_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(5000).default(150)),
  BREAKER_FAILURES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(5)),
  BREAKER_HALF_OPEN_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(30_000)),
  // Fallback zone: the PBX clock of enterprises without `time_zone`, and the zone phone results are dated in while the
  // account's own zone (read from RetailCRM's settings) is unknown.
  RETAILCRM_TIME_ZONE: z.preprocess(
    emptyToUndefined,
    z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Moscow').default('UTC'),
  ),
  // Which RetailCRM origins may be saved and called (SSRF guard): comma-separated host globs.
  RETAILCRM_ALLOWED_HOSTS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w*.,\s-]+$/, 'must be comma-separated host globs like *.retailcrm.ru')
      .default(DEFAULT_RETAILCRM_HOSTS.join(',')),
  ),
  // Development only (refused with NODE_ENV=production): a RetailCRM fake on localhost.
  RETAILCRM_ALLOW_LOOPBACK: z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  ),
  // Express `trust proxy`: whose X-Forwarded-* to believe (hop count, true, or addresses/subnets).
  TRUST_PROXY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w.:/, -]+$/)
      .default('loopback'),
  ),
});

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  adminToken: string;
  secretKey: Buffer;
  jwtSecret: string;
  publicBaseUrl: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  bodyLimitJson: string;
  bodyLimitForm: string;
  shutdownTimeoutMs: number;
  moduleCode: string;
  /** Asterisk Manager Interface for click-to-call and smart redirect; undefined = not configured. */
  ami: { host: string; port: number; username: string; secret: string; context: string } | undefined;
  /** Messenger hub (src/messenger): outbox guards, workers, public key, uploads. */
  messenger: MessengerConfig;
  /** RETAILCRM_TIME_ZONE: default PBX clock, and the account's zone until RetailCRM's settings are read. */
  retailCrmTimeZone: string;
  /** Event delivery queue (BullMQ when REDIS_URL is set, otherwise the SQL outbox) and CRM call policies. */
  delivery: {
    redisPrefix: string;
    attempts: number;
    /** Delay before retry n: min(retryMaxMs, retryBaseMs × 4^(n−1)). */
    retryBaseMs: number;
    retryMaxMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    /** Deliveries one instance runs at once (SQL outbox). */
    concurrency: number;
    timeoutMs: number;
    /** Telephony calls per second per account (token bucket in the egress policies). */
    ratePerSecond: number;
    /** DELIVERY_UPLOAD_WINDOW_MS: how long an upload waits to share a request with others of its enterprise. */
    uploadWindowMs: number;
    breakerFailures: number;
    breakerHalfOpenMs: number;
  };
  /** RetailCRM origins the admin API may save and call (see `createHostPolicy`). */
  retailCrmHosts: { allowedHosts: string[]; allowLoopback: boolean };
  /** Express `trust proxy` value: a hop count, `true`/`false`, or a comma list of addresses/subnets/names. */
  trustProxy: number | boolean | string;
}

/** Parses and validates the environment; throws {@link ConfigError} listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const messenger = parseMessengerEnv(env);
  if (!messenger.ok) throw new ConfigError(messenger.issues);
  if (e.RETAILCRM_ALLOW_LOOPBACK && env.NODE_ENV === 'production') {
    throw new ConfigError([
      'RETAILCRM_ALLOW_LOOPBACK: is a development flag and cannot be on with NODE_ENV=production',
    ]);
  }
  if (e.AMI_HOST && (!e.AMI_USERNAME || !e.AMI_SECRET)) {
    throw new ConfigError(['AMI_USERNAME / AMI_SECRET: required when AMI_HOST is set']);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    adminToken: e.ADMIN_TOKEN,
    secretKey: decodeKey(e.SECRET_KEY) as Buffer,
    jwtSecret: e.JWT_SECRET,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    bodyLimitJson: e.BODY_LIMIT_JSON,
    bodyLimitForm: e.BODY_LIMIT_FORM,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    moduleCode: e.RETAILCRM_MODULE_CODE,
    ami: e.AMI_HOST
      ? {
          host: e.AMI_HOST,
          port: e.AMI_PORT,
          username: e.AMI_USERNAME as string,
          secret: e.AMI_SECRET as string,
          context: e.AMI_CONTEXT,
        }
      : undefined,
    messenger: messenger.config,
    retailCrmTimeZone: e.RETAILCRM_TIME_ZONE,
    delivery: {
      redisPrefix: e.REDIS_PREFIX,
      attempts: e.QUEUE_ATTEMPTS,
      retryBaseMs: e.QUEUE_RETRY_BASE_MS,
      retryMaxMs: e.QUEUE_RETRY_MAX_MS,
      lockDurationMs: e.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: e.QUEUE_STALLED_INTERVAL_MS,
      concurrency: e.QUEUE_CONCURRENCY,
      timeoutMs: e.DELIVERY_TIMEOUT_MS,
      ratePerSecond: e.DELIVERY_RATE_PER_SECOND,
      uploadWindowMs: e.DELIVERY_UPLOAD_WINDOW_MS,
      breakerFailures: e.BREAKER_FAILURES,
      breakerHalfOpenMs: e.BREAKER_HALF_OPEN_MS,
    },
    retailCrmHosts: {
      allowedHosts: e.RETAILCRM_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim())
        .filter((h) => h !== ''),
      allowLoopback: e.RETAILCRM_ALLOW_LOOPBACK,
    },
    trustProxy: /^\d+$/.test(e.TRUST_PROXY)
      ? Number(e.TRUST_PROXY)
      : e.TRUST_PROXY === 'true' || e.TRUST_PROXY === 'false'
        ? e.TRUST_PROXY === 'true'
        : e.TRUST_PROXY,
  };
}
