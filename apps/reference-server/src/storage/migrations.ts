import { messengerMigrations } from '../messenger/migration.js';
import { phoneMigrations } from '../phone/migrations.js';
import { secretsAtRestMigrations } from './secrets-at-rest.js';

/**
 * SQL migrations shared by the PGlite and PostgreSQL storages. Append only: an applied migration
 * is never edited, a change is a new entry.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const CONFIG_CHANGED_CHANNEL = 'integrations_config_changed';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'core tables',
    sql: `
CREATE TABLE IF NOT EXISTS enterprises (
  number text PRIMARY KEY,
  name text NOT NULL,
  pbx_token text UNIQUE,
  active boolean NOT NULL DEFAULT true,
  integrations_config jsonb NOT NULL DEFAULT '{}'::jsonb,
  admin_token_version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS integration_logs (
  id bigserial PRIMARY KEY,
  enterprise_number text NOT NULL,
  integration_type text NOT NULL,
  event_type text NOT NULL,
  call_unique_id text,
  request_data jsonb,
  response_data jsonb,
  status text NOT NULL CHECK (status IN ('success', 'error')),
  error_message text,
  duration_ms integer,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS integration_logs_enterprise_created
  ON integration_logs (enterprise_number, integration_type, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS users (
  id bigserial PRIMARY KEY,
  enterprise_number text NOT NULL REFERENCES enterprises(number) ON DELETE CASCADE,
  first_name text,
  last_name text,
  email text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS user_internal_phones (
  id bigserial PRIMARY KEY,
  enterprise_number text NOT NULL REFERENCES enterprises(number) ON DELETE CASCADE,
  phone_number text NOT NULL,
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (enterprise_number, phone_number)
);

CREATE TABLE IF NOT EXISTS dead_letters (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  enterprise_number text,
  job_id text,
  payload jsonb NOT NULL,
  error_message text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'integrations_config NOTIFY trigger',
    // One NOTIFY per integration whose sub-config changed; PostgreSQL delivers it after COMMIT.
    sql: `
CREATE OR REPLACE FUNCTION callbridge_notify_integrations_config() RETURNS trigger AS $fn$
DECLARE
  k text;
  old_cfg jsonb := '{}'::jsonb;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    old_cfg := COALESCE(OLD.integrations_config, '{}'::jsonb);
  END IF;
  FOR k IN
    SELECT key FROM jsonb_object_keys(COALESCE(NEW.integrations_config, '{}'::jsonb)) AS key
    UNION
    SELECT key FROM jsonb_object_keys(old_cfg) AS key
  LOOP
    IF (NEW.integrations_config -> k) IS DISTINCT FROM (old_cfg -> k) THEN
      PERFORM pg_notify('${CONFIG_CHANGED_CHANNEL}',
        jsonb_build_object('enterprise_number', NEW.number, 'integration_type', k)::text);
    END IF;
  END LOOP;
  RETURN NEW;
END
$fn$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS enterprises_integrations_config_changed ON enterprises;
CREATE TRIGGER enterprises_integrations_config_changed
  AFTER INSERT OR UPDATE OF integrations_config ON enterprises
  FOR EACH ROW EXECUTE FUNCTION callbridge_notify_integrations_config();
`,
  },
  {
    version: 30,
    name: 'delivery outbox (durable queue before 202)',
    // Times are epoch milliseconds from the application clock. One row per job id and queue: the row is the
    // job (waiting, leased, delayed for a retry), then its dedupe memory once done or dead.
    sql: `
CREATE TABLE IF NOT EXISTS delivery_outbox (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  job_id text NOT NULL,
  enterprise_number text NOT NULL,
  job jsonb NOT NULL,
  status text NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'done', 'dead')),
  attempt integer NOT NULL DEFAULT 1,
  steps jsonb NOT NULL DEFAULT '[]'::jsonb,
  run_at bigint NOT NULL,
  lease_owner text,
  lease_until bigint,
  dedupe_until bigint NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (queue, job_id)
);
CREATE INDEX IF NOT EXISTS delivery_outbox_due ON delivery_outbox (queue, run_at, id) WHERE status = 'ready';
`,
  },
  {
    version: 31,
    name: 'NOTIFY on PBX token and enablement changes',
    // The PBX intake reads tokens from a config cache: a rotated token or a deactivated enterprise invalidates it.
    sql: `
CREATE OR REPLACE FUNCTION callbridge_notify_pbx_auth() RETURNS trigger AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('${CONFIG_CHANGED_CHANNEL}',
      jsonb_build_object('enterprise_number', OLD.number, 'integration_type', 'pbx')::text);
    RETURN OLD;
  END IF;
  IF TG_OP = 'INSERT' OR NEW.pbx_token IS DISTINCT FROM OLD.pbx_token OR NEW.active IS DISTINCT FROM OLD.active THEN
    PERFORM pg_notify('${CONFIG_CHANGED_CHANNEL}',
      jsonb_build_object('enterprise_number', NEW.number, 'integration_type', 'pbx')::text);
  END IF;
  RETURN NEW;
END
$fn$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS enterprises_pbx_auth_changed ON enterprises;
CREATE TRIGGER enterprises_pbx_auth_changed
  AFTER INSERT OR UPDATE OF pbx_token, active OR DELETE ON enterprises
  FOR EACH ROW EXECUTE FUNCTION callbridge_notify_pbx_auth();
`,
  },
  {
    version: 60,
    name: 'dead_letters re-send bookkeeping',
    // The admin UI lists one enterprise's dead letters newest first and re-sends them one at a time.
    sql: `
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS resent_at timestamptz;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS resend_count integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS dead_letters_enterprise_id ON dead_letters (enterprise_number, id DESC);
`,
  },
  ...phoneMigrations,
  ...messengerMigrations,
  {
    version: 40,
    name: 'integration_logs: direction, phone; warning and skipped statuses',
    // Every row about a call carries its direction and E.164 number; `warning` = accepted but something was lost
    // (a recording RetailCRM did not take), `skipped` = no CRM call on purpose (flag off, internal call...).
    sql: `
ALTER TABLE integration_logs ADD COLUMN IF NOT EXISTS direction text CHECK (direction IN ('in', 'out'));
ALTER TABLE integration_logs ADD COLUMN IF NOT EXISTS phone text;
ALTER TABLE integration_logs DROP CONSTRAINT IF EXISTS integration_logs_status_check;
ALTER TABLE integration_logs ADD CONSTRAINT integration_logs_status_check
  CHECK (status IN ('success', 'error', 'warning', 'skipped'));
CREATE INDEX IF NOT EXISTS integration_logs_call_idx ON integration_logs (enterprise_number, call_unique_id);
`,
  },
  // Core 50-52: PBX token digests, provider token and tenant key digest columns.
  ...secretsAtRestMigrations,
];
