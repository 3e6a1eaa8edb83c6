import { randomBytes } from 'node:crypto';
import {
  type AvitoChatCache,
  type AvitoTokenStore,
  type AvitoTokens,
  KeyAlreadyExistsError,
  type MessageIn,
  type ProviderTokenStore,
  type TenantKeyStore,
} from '@callbridge/messenger-contract';
import type { SecretBox } from '../secret-box.js';
import type { SqlDriver, SqlQueryable } from '../storage/sql-driver.js';
import { tokenDigest } from '../token-digest.js';

type Row = Record<string, unknown>;
const parsed = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/**
 * A secret the API shows again, kept encrypted with SECRET_KEY; a plaintext value from before encryption is
 * returned as it is and re-encrypted in place (`rewrite`) so the table converges without a manual step.
 */
async function revealStored(
  secrets: SecretBox,
  stored: string,
  rewrite: (encrypted: string) => Promise<unknown>,
): Promise<string> {
  if (secrets.isEncrypted(stored)) return secrets.decrypt(stored);
  await rewrite(secrets.encrypt(stored));
  return stored;
}

/**
 * ProviderTokenStore over the seed's `provider_tokens` table; `ensure` is race-free across instances. The token is
 * stored encrypted, plus its digest for the token -> tenant lookup of Avito webhooks.
 */
export class SqlProviderTokenStore implements ProviderTokenStore {
  constructor(
    private readonly db: SqlQueryable,
    private readonly secrets: SecretBox,
    private readonly generate: () => string = () => randomBytes(24).toString('hex'),
  ) {}

  async get(tenant: number): Promise<string | undefined> {
    const rows = await this.db.query<Row>('SELECT token FROM provider_tokens WHERE tenant = $1', [tenant]);
    if (!rows[0]) return undefined;
    const stored = String(rows[0].token);
    return revealStored(this.secrets, stored, (encrypted) =>
      this.db.query('UPDATE provider_tokens SET token = $3 WHERE tenant = $1 AND token = $2', [
        tenant,
        stored,
        encrypted,
      ]),
    );
  }

  async ensure(tenant: number): Promise<string> {
    const token = this.generate();
    // The loser of a concurrent insert reads the winner's token.
    await this.db.query(
      `INSERT INTO provider_tokens (tenant, token, token_digest) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO NOTHING`,
      [tenant, this.secrets.encrypt(token), tokenDigest(token)],
    );
    const stored = await this.get(tenant);
    if (stored === undefined) throw new Error('provider token vanished after insert');
    return stored;
  }

  /** Tenant owning `token` (Avito webhooks carry no tenant); the caller still verifies in constant time. */
  async tenantOf(token: string): Promise<number | undefined> {
    const rows = await this.db.query<Row>('SELECT tenant FROM provider_tokens WHERE token_digest = $1', [
      tokenDigest(token),
    ]);
    return rows[0] ? Number(rows[0].tenant) : undefined;
  }
}

/**
 * TenantKeyStore over `tenant_keys`: the primary key makes "1 tenant = 1 key" hold across instances. Keys are
 * stored encrypted (the admin API shows them again), with a digest that keeps them unique across tenants.
 */
export class SqlTenantKeyStore implements TenantKeyStore {
  constructor(
    private readonly db: SqlQueryable,
    private readonly secrets: SecretBox,
  ) {}

  async get(tenant: number): Promise<string | undefined> {
    const rows = await this.db.query<Row>('SELECT key FROM tenant_keys WHERE tenant = $1', [tenant]);
    if (!rows[0]) return undefined;
    const stored = String(rows[0].key);
    return revealStored(this.secrets, stored, (encrypted) =>
      this.db.query('UPDATE tenant_keys SET key = $3 WHERE tenant = $1 AND key = $2', [tenant, stored, encrypted]),
    );
  }

  async create(tenant: number, key: string): Promise<void> {
    const rows = await this.db.query<Row>(
      `INSERT INTO tenant_keys (tenant, key, key_digest) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING tenant`,
      [tenant, this.secrets.encrypt(key), tokenDigest(key)],
    );
    if (rows.length === 0) throw new KeyAlreadyExistsError();
  }

  async delete(tenant: number): Promise<boolean> {
    const rows = await this.db.query<Row>('DELETE FROM tenant_keys WHERE tenant = $1 RETURNING tenant', [tenant]);
    return rows.length > 0;
  }
}

/** AvitoTokenStore over `avito_tokens`; the whole record is one encrypted value, replaced atomically. */
export class SqlAvitoTokenStore implements AvitoTokenStore {
  constructor(
    private readonly db: SqlQueryable,
    private readonly secrets: SecretBox,
  ) {}

  async get(tenant: number): Promise<AvitoTokens | undefined> {
    const rows = await this.db.query<Row>('SELECT tokens FROM avito_tokens WHERE tenant = $1', [tenant]);
    if (!rows[0]) return undefined;
    return JSON.parse(this.secrets.decrypt(String(rows[0].tokens))) as AvitoTokens;
  }

  async set(tenant: number, tokens: AvitoTokens): Promise<void> {
    await this.db.query(
      `INSERT INTO avito_tokens (tenant, tokens) VALUES ($1, $2)
       ON CONFLICT (tenant) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = now()`,
      [tenant, this.secrets.encrypt(JSON.stringify(tokens))],
    );
  }
}

/** AvitoChatCache over `avito_chats`, so `to: "user:<id>"` works on every instance. */
export class SqlAvitoChatCache implements AvitoChatCache {
  constructor(private readonly db: SqlQueryable) {}

  async get(tenant: number, userId: string): Promise<string | undefined> {
    const rows = await this.db.query<Row>('SELECT chat_id FROM avito_chats WHERE tenant = $1 AND user_id = $2', [
      tenant,
      userId,
    ]);
    return rows[0] ? String(rows[0].chat_id) : undefined;
  }

  async set(tenant: number, userId: string, chatId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO avito_chats (tenant, user_id, chat_id) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, user_id) DO UPDATE SET chat_id = EXCLUDED.chat_id, updated_at = now()`,
      [tenant, userId, chatId],
    );
  }
}

export interface StoredWebhookEvent {
  id: number;
  tenant: number;
  provider: string;
  channel: string | null;
  event: string;
  messageId: string | null;
  payload: MessageIn;
  createdAt: string;
}

export type SendClaim =
  | { kind: 'claimed' }
  | { kind: 'pending' }
  | { kind: 'done'; httpStatus: number; result: Record<string, unknown> };

export interface CatalogJob {
  id: string;
  tenant: number;
  state: string;
  info: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The hub's own rows: inbound events, send idempotency, tenant settings, catalog jobs. */
export class MessengerStore {
  constructor(private readonly db: SqlDriver) {}

  /**
   * Stores an inbound event and runs `then` (contact filing, inbox push) in the same transaction, so a failure leaves no row
   * behind. Returns false when the message was stored before (another instance won): nothing is pushed again.
   */
  async recordEvent(event: MessageIn, then: (tx: SqlQueryable, eventId: number) => Promise<void>): Promise<boolean> {
    const messageId = 'message_id' in event ? event.message_id : null;
    const provider = event.provider ?? event.channel ?? 'unknown';
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(
        `INSERT INTO webhook_events (tenant, provider, channel, event, message_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (tenant, provider, message_id) WHERE message_id IS NOT NULL DO NOTHING RETURNING id`,
        [event.tenant, provider, event.channel ?? null, event.event, messageId, JSON.stringify(event)],
      );
      if (rows.length === 0) return false;
      await then(tx, Number(rows[0]?.id));
      return true;
    });
  }

  async listEvents(tenant: number, limit = 100): Promise<StoredWebhookEvent[]> {
    const rows = await this.db.query<Row>('SELECT * FROM webhook_events WHERE tenant = $1 ORDER BY id DESC LIMIT $2', [
      tenant,
      limit,
    ]);
    return rows.map((r) => ({
      id: Number(r.id),
      tenant: Number(r.tenant),
      provider: String(r.provider),
      channel: (r.channel as string | null) ?? null,
      event: String(r.event),
      messageId: (r.message_id as string | null) ?? null,
      payload: parsed(r.payload) as MessageIn,
      createdAt: iso(r.created_at),
    }));
  }

  /** First caller with (tenant, channel, client_msg_id) gets `claimed`; later ones see the stored outcome. */
  async claimSend(tenant: number, channel: string, clientMsgId: string, staleMs = 120_000): Promise<SendClaim> {
    // A claim left pending by a process that died mid-send is taken over after `staleMs`.
    const inserted = await this.db.query<Row>(
      `INSERT INTO messenger_sends (tenant, channel, client_msg_id, state) VALUES ($1, $2, $3, 'pending')
       ON CONFLICT (tenant, channel, client_msg_id) DO UPDATE SET created_at = now()
         WHERE messenger_sends.state = 'pending'
           AND messenger_sends.created_at < now() - make_interval(secs => $4::double precision / 1000)
       RETURNING state`,
      [tenant, channel, clientMsgId, staleMs],
    );
    if (inserted.length > 0) return { kind: 'claimed' };
    const rows = await this.db.query<Row>(
      'SELECT state, http_status, result FROM messenger_sends WHERE tenant = $1 AND channel = $2 AND client_msg_id = $3',
      [tenant, channel, clientMsgId],
    );
    const row = rows[0];
    // Released between our insert and select: the caller may simply retry.
    if (!row || row.state === 'pending') return { kind: 'pending' };
    return {
      kind: 'done',
      httpStatus: Number(row.http_status),
      result: (parsed(row.result) ?? {}) as Record<string, unknown>,
    };
  }

  async completeSend(
    tenant: number,
    channel: string,
    clientMsgId: string,
    httpStatus: number,
    result: Record<string, unknown>,
  ): Promise<void> {
    await this.db.query(
      `UPDATE messenger_sends SET state = 'done', http_status = $4, result = $5::jsonb
       WHERE tenant = $1 AND channel = $2 AND client_msg_id = $3`,
      [tenant, channel, clientMsgId, httpStatus, JSON.stringify(result)],
    );
  }

  /** Forgets a claim whose delivery failed retryably, so the caller's retry is attempted again. */
  async releaseSend(tenant: number, channel: string, clientMsgId: string): Promise<void> {
    await this.db.query('DELETE FROM messenger_sends WHERE tenant = $1 AND channel = $2 AND client_msg_id = $3', [
      tenant,
      channel,
      clientMsgId,
    ]);
  }

  async getSettings(tenant: number): Promise<Record<string, unknown>> {
    const rows = await this.db.query<Row>('SELECT settings FROM messenger_tenants WHERE tenant = $1', [tenant]);
    const value = rows[0] ? parsed(rows[0].settings) : undefined;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  }

  /** Sets `integrations.<key>` in the tenant's settings. */
  setIntegration(tenant: number, key: string, value: unknown): Promise<void> {
    return this.patchSettings(tenant, 'integrations', { [key]: value });
  }

  /**
   * Merges `patch` into the object at settings[`section`] (created when missing). The row is locked, so concurrent
   * patches of other keys survive.
   */
  async patchSettings(tenant: number, section: string, patch: Record<string, unknown>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO messenger_tenants (tenant) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
      await tx.query(
        `UPDATE messenger_tenants SET settings = jsonb_set(settings, ARRAY[$2::text],
           CASE WHEN jsonb_typeof(settings -> $2) = 'object' THEN settings -> $2 ELSE '{}'::jsonb END || $3::jsonb,
           true), updated_at = now()
         WHERE tenant = $1`,
        [tenant, section, JSON.stringify(patch)],
      );
    });
  }

  /** Sets top-level settings keys (a value of null removes the key). */
  async setSettings(tenant: number, values: Record<string, unknown>): Promise<void> {
    const remove = Object.keys(values).filter((k) => values[k] === null);
    const set = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null));
    await this.db.query(
      `INSERT INTO messenger_tenants (tenant, settings) VALUES ($1, $2::jsonb)
       ON CONFLICT (tenant) DO UPDATE SET settings = (messenger_tenants.settings || $2::jsonb) - $3::text[],
         updated_at = now()`,
      [tenant, JSON.stringify(set), remove],
    );
  }

  async createJob(id: string, tenant: number, info: Record<string, unknown>): Promise<void> {
    await this.db.query(`INSERT INTO catalog_jobs (id, tenant, state, info) VALUES ($1, $2, 'queued', $3::jsonb)`, [
      id,
      tenant,
      JSON.stringify(info),
    ]);
  }

  async updateJob(id: string, state: string, info: Record<string, unknown>, error?: string): Promise<void> {
    await this.db.query(
      `UPDATE catalog_jobs SET state = $2, info = info || $3::jsonb, error = $4, updated_at = now() WHERE id = $1`,
      [id, state, JSON.stringify(info), error ?? null],
    );
  }

  async getJob(id: string): Promise<CatalogJob | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM catalog_jobs WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: String(r.id),
      tenant: Number(r.tenant),
      state: String(r.state),
      info: (parsed(r.info) ?? {}) as Record<string, unknown>,
      error: (r.error as string | null) ?? null,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
  }
}
