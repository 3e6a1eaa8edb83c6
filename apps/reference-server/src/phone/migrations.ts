import type { Migration } from '../storage/migrations.js';

/**
 * Tables of the phone API (appended to the shared migration list). Versions 301+ are reserved for "phone" so
 * they never collide with entries other features append at the same time.
 */
export const phoneMigrations: readonly Migration[] = [
  {
    version: 301,
    name: 'phone tables',
    sql: `
CREATE TABLE IF NOT EXISTS phone_users (
  id text PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  is_admin boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true,
  enterprise_number text REFERENCES enterprises(number) ON DELETE CASCADE,
  extension text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS phone_users_extension
  ON phone_users (enterprise_number, extension) WHERE extension IS NOT NULL;

CREATE TABLE IF NOT EXISTS phone_devices (
  device_id text PRIMARY KEY,
  user_id text NOT NULL,
  last_seen_at bigint NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS phone_devices_user ON phone_devices (user_id, last_seen_at DESC);

CREATE TABLE IF NOT EXISTS phone_qr_tokens (
  digest text PRIMARY KEY,
  user_id text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS phone_command_seq;
CREATE TABLE IF NOT EXISTS phone_commands (
  id text PRIMARY KEY,
  device_id text NOT NULL,
  phone text NOT NULL,
  extra jsonb,
  enqueued_at bigint NOT NULL,
  deliveries integer NOT NULL DEFAULT 0,
  seq bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'inflight')),
  deadline bigint
);
CREATE INDEX IF NOT EXISTS phone_commands_device ON phone_commands (device_id, state, seq);

CREATE TABLE IF NOT EXISTS phone_calls (
  command_id text PRIMARY KEY,
  enterprise_number text NOT NULL,
  retailcrm_user_id text,
  extension text NOT NULL,
  phone text NOT NULL,
  phone_user_id text NOT NULL,
  device_id text NOT NULL,
  created_at bigint NOT NULL,
  call_status text,
  result jsonb,
  result_at bigint,
  upload_state text NOT NULL DEFAULT 'none' CHECK (upload_state IN ('none', 'pending', 'uploaded', 'failed')),
  upload_attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  lease_until bigint,
  last_error text,
  uploaded_at bigint
);
CREATE INDEX IF NOT EXISTS phone_calls_upload ON phone_calls (upload_state, next_attempt_at);

CREATE TABLE IF NOT EXISTS phone_telemetry (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  user_id text NOT NULL,
  ts text,
  type text NOT NULL,
  endpoint text,
  http_code integer,
  value_ms double precision,
  extra jsonb,
  received_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS phone_telemetry_received ON phone_telemetry (received_at DESC);

CREATE TABLE IF NOT EXISTS phone_logs (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  user_id text NOT NULL,
  ts text,
  level_summary text,
  source text,
  payload text NOT NULL,
  received_at bigint NOT NULL
);
`,
  },
  {
    version: 310,
    name: 'phone device ownership by (enterprise, user)',
    // Existing devices get their owner's current enterprise, so an upgrade locks no one out.
    sql: `
ALTER TABLE phone_devices ADD COLUMN IF NOT EXISTS tenant text;
UPDATE phone_devices d
   SET tenant = u.enterprise_number,
       record = jsonb_set(d.record, '{tenant}', to_jsonb(u.enterprise_number))
  FROM phone_users u
 WHERE u.id = d.user_id AND u.enterprise_number IS NOT NULL AND d.tenant IS NULL;
`,
  },
  {
    version: 311,
    name: 'phone used refresh tokens and revoked token families',
    sql: `
CREATE TABLE IF NOT EXISTS phone_revoked_tokens (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('jti', 'family')),
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS phone_revoked_tokens_expiry ON phone_revoked_tokens (expires_at);
`,
  },
];
