import type { Migration } from '../storage/migrations.js';

/**
 * Tables of the messenger hub. `provider_tokens` is the seed's exact shape; tenants are the hub's integer tenant ids
 * (independent of PBX enterprises). Avito tokens are stored encrypted (SECRET_KEY), like the RetailCRM api_key.
 */
const messengerTables: Migration = {
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

/** Contacts across channels, a lead per contact and channel, the reply address of each lead, its messages. */
const contactsAndLeads: Migration = {
  version: 1010,
  name: 'messenger contacts and leads',
  sql: `
CREATE TABLE IF NOT EXISTS contacts (
  id bigserial PRIMARY KEY,
  tenant integer NOT NULL,
  whatsapp_phone text,
  avito_user_id text,
  avito_login text,
  telegram_user_id text,
  telegram_username text,
  display_name text,
  merged_into bigint REFERENCES contacts(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS contacts_whatsapp_phone ON contacts (tenant, whatsapp_phone)
  WHERE whatsapp_phone IS NOT NULL AND merged_into IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS contacts_avito_user_id ON contacts (tenant, avito_user_id)
  WHERE avito_user_id IS NOT NULL AND merged_into IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS contacts_avito_login ON contacts (tenant, avito_login)
  WHERE avito_login IS NOT NULL AND merged_into IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS contacts_telegram_user_id ON contacts (tenant, telegram_user_id)
  WHERE telegram_user_id IS NOT NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS contacts_tenant ON contacts (tenant, id DESC) WHERE merged_into IS NULL;

CREATE TABLE IF NOT EXISTS leads (
  id bigserial PRIMARY KEY,
  tenant integer NOT NULL,
  contact_id bigint NOT NULL REFERENCES contacts(id),
  channel text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'avito')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_message_at timestamptz,
  UNIQUE (tenant, contact_id, channel)
);

CREATE TABLE IF NOT EXISTS lead_contacts (
  tenant integer NOT NULL,
  channel text NOT NULL,
  peer text NOT NULL,
  lead_id bigint NOT NULL REFERENCES leads(id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, channel, peer)
);
CREATE INDEX IF NOT EXISTS lead_contacts_lead ON lead_contacts (lead_id);

CREATE TABLE IF NOT EXISTS lead_messages (
  id bigserial PRIMARY KEY,
  tenant integer NOT NULL,
  lead_id bigint NOT NULL REFERENCES leads(id),
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  text text,
  source text NOT NULL,
  message_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS lead_messages_lead ON lead_messages (lead_id, id DESC);

ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS contact_id bigint;
ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS lead_id bigint;
`,
};

/** Per-tenant persona override (the default lives in code); the tenant's brand passport is in its settings. */
const personas: Migration = {
  version: 1011,
  name: 'messenger personas',
  sql: `
CREATE TABLE IF NOT EXISTS messenger_personas (
  tenant integer PRIMARY KEY,
  template text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
};

/** OAuth `state` values of the connect pages: stored as digests, single use, short-lived. */
const oauthStates: Migration = {
  version: 1012,
  name: 'messenger oauth states',
  sql: `
CREATE TABLE IF NOT EXISTS messenger_oauth_states (
  digest text PRIMARY KEY,
  tenant integer NOT NULL,
  provider text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
};

/** The hub's migrations, in order (versions 1001+; issue ranges are kept apart so parallel work never collides). */
export const messengerMigrations: readonly Migration[] = [messengerTables, contactsAndLeads, personas, oauthStates];
