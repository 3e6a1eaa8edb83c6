import type { Migration } from '../storage/migrations.js';

/**
 * Tables of the messenger hub. `provider_tokens` is the seed's exact shape; tenants are the hub's integer tenant ids
 * (independent of PBX enterprises). Avito tokens are stored encrypted (SECRET_KEY), like the RetailCRM api_key.
 */
export const messengerMigration: Migration = {
  version: 1001,
  name: 'messenger',
  sql: `
CREATE TABLE IF NOT EXISTS provider_tokens (
  tenant integer PRIMARY KEY,
  token text UNIQUE NOT NULL,
  created_at timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tenant_keys (
  tenant integer PRIMARY KEY,
  key text UNIQUE NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS avito_tokens (
  tenant integer PRIMARY KEY,
  tokens text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS avito_chats (
  tenant integer NOT NULL,
  user_id text NOT NULL,
  chat_id text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, user_id)
);

CREATE TABLE IF NOT EXISTS webhook_events (
  id bigserial PRIMARY KEY,
  tenant integer NOT NULL,
  provider text NOT NULL,
  channel text,
  event text NOT NULL,
  message_id text,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_message
  ON webhook_events (tenant, provider, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS messenger_sends (
  tenant integer NOT NULL,
  channel text NOT NULL,
  client_msg_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done')),
  http_status integer,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, channel, client_msg_id)
);

CREATE TABLE IF NOT EXISTS messenger_tenants (
  tenant integer PRIMARY KEY,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS catalog_jobs (
  id text PRIMARY KEY,
  tenant integer NOT NULL,
  state text NOT NULL,
  info jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
};
