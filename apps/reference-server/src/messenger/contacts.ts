import type { Channel, IncomingMessage } from '@callbridge/messenger-contract';
import type { SqlDriver, SqlQueryable } from '../storage/sql-driver.js';
import {
  type ContactIdentifiers,
  IDENTIFIER_COLUMNS,
  identifiersOf,
  type LeadLookup,
  peerOf,
} from './contact-identity.js';

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

export interface Contact extends ContactIdentifiers {
  id: number;
  tenant: number;
  display_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface Lead {
  id: number;
  contact_id: number;
  channel: Channel;
  peers: string[];
  created_at: string;
  last_message_at: string | null;
}

export interface LeadMessage {
  id: number;
  direction: 'in' | 'out';
  text: string | null;
  source: string;
  message_id: string | null;
  created_at: string;
}

/** Where an inbound message was filed. `merged` lists contacts folded into `contactId` by this message. */
export interface InboundLink {
  contactId: number;
  leadId: number;
  merged: number[];
}

function toContact(r: Row): Contact {
  const c: Contact = {
    id: Number(r.id),
    tenant: Number(r.tenant),
    display_name: (r.display_name as string | null) ?? null,
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
  for (const col of [...IDENTIFIER_COLUMNS, 'telegram_username'] as const) {
    if (r[col] !== null && r[col] !== undefined) c[col] = String(r[col]);
  }
  return c;
}

/**
 * Contacts and leads (seed: `contacts`, `leads`, `lead_contacts`). One contact per person and tenant across
 * channels, found by any of its identifiers; one lead per contact and channel; `lead_contacts` maps the channel's
 * reply address (peer) to the lead. Resolution runs under a per-tenant advisory lock, so two instances receiving
 * the same person at once still make one contact.
 */
export class ContactStore {
  constructor(readonly db: SqlDriver) {}

  /**
   * The seed's resolve_or_create_contact for an inbound message, inside the caller's transaction: finds every live
   * contact sharing an identifier with the message, merges them into the oldest one (leads of the same channel
   * become one), fills in new identifiers, then upserts the lead and its peer and files the message text.
   */
  async attachInbound(tx: SqlQueryable, message: IncomingMessage, eventId: number | null): Promise<InboundLink> {
    const ids = identifiersOf(message);
    await tx.query('SELECT pg_advisory_xact_lock(7291018, $1)', [message.tenant]);
    const given = IDENTIFIER_COLUMNS.filter((c) => ids[c] !== undefined);
    let matches: Row[] = [];
    if (given.length > 0) {
      const where = given.map((c, i) => `${c} = $${i + 2}`).join(' OR ');
      matches = await tx.query<Row>(
        `SELECT * FROM contacts WHERE tenant = $1 AND merged_into IS NULL AND (${where}) ORDER BY id`,
        [message.tenant, ...given.map((c) => ids[c])],
      );
    }
    let contactId: number;
    const merged: number[] = [];
    const displayName = displayNameOf(message);
    if (matches.length === 0) {
      const cols = ['tenant', 'display_name', 'telegram_username', ...given];
      const rows = await tx.query<Row>(
        `INSERT INTO contacts (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        [message.tenant, displayName ?? null, ids.telegram_username ?? null, ...given.map((c) => ids[c])],
      );
      contactId = Number(rows[0]?.id);
    } else {
      const [survivor, ...others] = matches as [Row, ...Row[]];
      contactId = Number(survivor.id);
      const union: ContactIdentifiers = {};
      // The survivor's own values win; the message's and the merged contacts' fill the gaps.
      for (const source of [survivor, ids, ...others] as Row[]) {
        for (const col of IDENTIFIER_COLUMNS) {
          const v = source[col];
          if (union[col] === undefined && v !== null && v !== undefined) union[col] = String(v);
        }
      }
      for (const other of others) {
        merged.push(Number(other.id));
        await this.mergeInto(tx, message.tenant, Number(other.id), contactId);
      }
      const sets = IDENTIFIER_COLUMNS.map((c, i) => `${c} = $${i + 3}`).join(', ');
      const n = IDENTIFIER_COLUMNS.length;
      await tx.query(
        `UPDATE contacts SET ${sets}, display_name = COALESCE(display_name, $${n + 3}),
           telegram_username = $${n + 4}, updated_at = now()
         WHERE tenant = $1 AND id = $2`,
        [
          message.tenant,
          contactId,
          ...IDENTIFIER_COLUMNS.map((c) => union[c] ?? null),
          displayName ?? null,
          // The latest username wins (Telegram users may change it), else whichever contact had one.
          ids.telegram_username ?? [survivor, ...others].map((r) => r.telegram_username).find((u) => u != null) ?? null,
        ],
      );
    }
    const leadId = await this.upsertLead(tx, message.tenant, contactId, message.channel);
    const peer = peerOf(message);
    if (peer !== undefined) {
      await tx.query(
        `INSERT INTO lead_contacts (tenant, channel, peer, lead_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, channel, peer) DO UPDATE SET lead_id = EXCLUDED.lead_id, updated_at = now()`,
        [message.tenant, message.channel, peer, leadId],
      );
    }
    await this.addMessage(tx, message.tenant, leadId, 'in', message.text ?? null, 'webhook', message.message_id);
    if (eventId !== null) {
      await tx.query('UPDATE webhook_events SET contact_id = $2, lead_id = $3 WHERE id = $1', [
        eventId,
        contactId,
        leadId,
      ]);
    }
    return { contactId, leadId, merged };
  }

  /** Folds `fromId` into `intoId`: leads move over (same channel: one lead), the old contact points at the new. */
  private async mergeInto(tx: SqlQueryable, tenant: number, fromId: number, intoId: number): Promise<void> {
    const leads = await tx.query<Row>('SELECT id, channel FROM leads WHERE tenant = $1 AND contact_id = $2', [
      tenant,
      fromId,
    ]);
    for (const lead of leads) {
      const existing = await tx.query<Row>(
        'SELECT id FROM leads WHERE tenant = $1 AND contact_id = $2 AND channel = $3',
        [tenant, intoId, lead.channel],
      );
      const target = existing[0];
      if (target === undefined) {
        await tx.query('UPDATE leads SET contact_id = $2 WHERE id = $1', [lead.id, intoId]);
        continue;
      }
      for (const table of ['lead_contacts', 'lead_messages', 'webhook_events']) {
        await tx.query(`UPDATE ${table} SET lead_id = $2 WHERE lead_id = $1`, [lead.id, target.id]);
      }
      await tx.query(
        `UPDATE leads SET last_message_at = GREATEST(last_message_at, (SELECT last_message_at FROM leads WHERE id = $2))
         WHERE id = $1`,
        [target.id, lead.id],
      );
      await tx.query('DELETE FROM leads WHERE id = $1', [lead.id]);
    }
    await tx.query('UPDATE webhook_events SET contact_id = $2 WHERE contact_id = $1', [fromId, intoId]);
    // Identifiers are cleared on the merged row so the unique indexes only ever see the live contact.
    await tx.query(
      `UPDATE contacts SET merged_into = $2, ${IDENTIFIER_COLUMNS.map((c) => `${c} = NULL`).join(', ')},
         updated_at = now() WHERE id = $1`,
      [fromId, intoId],
    );
    await tx.query('UPDATE contacts SET merged_into = $2 WHERE merged_into = $1', [fromId, intoId]);
  }

  private async upsertLead(tx: SqlQueryable, tenant: number, contactId: number, channel: Channel): Promise<number> {
    const rows = await tx.query<Row>(
      `INSERT INTO leads (tenant, contact_id, channel, last_message_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (tenant, contact_id, channel) DO UPDATE SET last_message_at = now() RETURNING id`,
      [tenant, contactId, channel],
    );
    return Number(rows[0]?.id);
  }

  /** Files one message of a lead's conversation (inbound text, a `/send` or an auto-reply). */
  async addMessage(
    db: SqlQueryable,
    tenant: number,
    leadId: number,
    direction: 'in' | 'out',
    text: string | null,
    source: 'webhook' | 'send' | 'auto_reply',
    messageId?: string | null,
  ): Promise<void> {
    await db.query(
      `INSERT INTO lead_messages (tenant, lead_id, direction, text, source, message_id) VALUES ($1, $2, $3, $4, $5, $6)`,
      [tenant, leadId, direction, text, source, messageId ?? null],
    );
  }

  /** The lead a `/send` recipient belongs to (first lookup that hits), or undefined: the seed's `err:no_lead`. */
  async findLead(tenant: number, lookups: readonly LeadLookup[]): Promise<number | undefined> {
    for (const lookup of lookups) {
      const rows =
        'peer' in lookup
          ? await this.db.query<Row>(
              'SELECT lead_id AS id FROM lead_contacts WHERE tenant = $1 AND channel = $2 AND peer = $3',
              [tenant, lookup.channel, lookup.peer],
            )
          : await this.db.query<Row>(
              `SELECT l.id FROM contacts c JOIN leads l ON l.contact_id = c.id AND l.channel = $2
               WHERE c.tenant = $1 AND c.merged_into IS NULL AND c.${lookup.identifier} = $3`,
              [tenant, lookup.channel, lookup.value],
            );
      if (rows[0]) return Number(rows[0].id);
    }
    return undefined;
  }

  /** The lead's latest messages, oldest first (the auto-reply's conversation history). */
  async recentMessages(tenant: number, leadId: number, limit: number): Promise<LeadMessage[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM (SELECT * FROM lead_messages WHERE tenant = $1 AND lead_id = $2 ORDER BY id DESC LIMIT $3) m
       ORDER BY id`,
      [tenant, leadId, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      direction: r.direction as 'in' | 'out',
      text: (r.text as string | null) ?? null,
      source: String(r.source),
      message_id: (r.message_id as string | null) ?? null,
      created_at: iso(r.created_at) as string,
    }));
  }

  /** The tenant's live contacts, newest activity first, each with its leads and their peers. */
  async list(
    tenant: number,
    options: { limit: number; before?: number | undefined },
  ): Promise<(Contact & { leads: Lead[] })[]> {
    const contacts = (
      await this.db.query<Row>(
        `SELECT * FROM contacts WHERE tenant = $1 AND merged_into IS NULL AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3`,
        [tenant, options.before ?? null, options.limit],
      )
    ).map(toContact);
    if (contacts.length === 0) return [];
    const leads = await this.leadsOf(
      tenant,
      contacts.map((c) => c.id),
    );
    return contacts.map((c) => ({ ...c, leads: leads.filter((l) => l.contact_id === c.id) }));
  }

  /** One live contact of the tenant with its leads; undefined for another tenant's id or a merged one. */
  async get(tenant: number, id: number): Promise<(Contact & { leads: Lead[] }) | undefined> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM contacts WHERE tenant = $1 AND id = $2 AND merged_into IS NULL',
      [tenant, id],
    );
    if (!rows[0]) return undefined;
    return { ...toContact(rows[0]), leads: await this.leadsOf(tenant, [id]) };
  }

  /** The live contact a merged id now lives in (itself when not merged); undefined when unknown for the tenant. */
  async resolveMerged(tenant: number, id: number): Promise<number | undefined> {
    const rows = await this.db.query<Row>('SELECT id, merged_into FROM contacts WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    const r = rows[0];
    if (!r) return undefined;
    return r.merged_into === null || r.merged_into === undefined ? Number(r.id) : Number(r.merged_into);
  }

  /** One lead of the tenant (undefined for another tenant's id). */
  async getLead(tenant: number, id: number): Promise<Lead | undefined> {
    return (await this.leadsWhere(tenant, 'l.id = $2', id))[0];
  }

  private leadsOf(tenant: number, contactIds: number[]): Promise<Lead[]> {
    return this.leadsWhere(tenant, 'l.contact_id = ANY($2::bigint[])', contactIds);
  }

  private async leadsWhere(tenant: number, condition: string, value: unknown): Promise<Lead[]> {
    const rows = await this.db.query<Row>(
      `SELECT l.*, COALESCE(array_agg(lc.peer ORDER BY lc.peer) FILTER (WHERE lc.peer IS NOT NULL), '{}') AS peers
       FROM leads l LEFT JOIN lead_contacts lc ON lc.lead_id = l.id
       WHERE l.tenant = $1 AND ${condition} GROUP BY l.id ORDER BY l.id`,
      [tenant, value],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      contact_id: Number(r.contact_id),
      channel: r.channel as Channel,
      peers: (r.peers as string[]).map(String),
      created_at: iso(r.created_at) as string,
      last_message_at: iso(r.last_message_at),
    }));
  }
}

function displayNameOf(message: IncomingMessage): string | undefined {
  const raw = message as IncomingMessage & Record<string, unknown>;
  for (const key of ['name', 'author_name', 'sender_name', 'first_name', 'pushname']) {
    const v = raw[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 200);
  }
  return message.username;
}
