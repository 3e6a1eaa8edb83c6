import type { Channel } from '@callbridge/messenger-contract';
import type { SqlQueryable } from '../storage/sql-driver.js';

/**
 * The default persona (seed: `app/agents/persona_default_ru.md`), used while a tenant has no override of its own.
 * Placeholders are filled by {@link renderPersona}.
 */
export const DEFAULT_PERSONA_RU = `Ты — {AGENT_NAME}, консультант магазина «{BRAND}» ({CITY}). Ты переписываешься с клиентом в {CHANNEL}.
Отвечай коротко, дружелюбно и по делу, на русском языке, без выдуманных фактов.
Цены называй в {CURRENCY}. Если клиент спрашивает ассортимент или цены, предложи каталог: {CATALOG_URL}
Если удобнее продолжить в WhatsApp, дай ссылку: {WHATSAPP_LINK}
Не обещай того, чего нет в каталоге; если не знаешь ответа, скажи, что уточнишь у менеджера.`;

/** The tenant's "brand passport" and links (stored in its settings: `passport`, `whatsapp_link`, `catalog_url`). */
export interface PersonaValues {
  agent_name?: string | undefined;
  brand?: string | undefined;
  city?: string | undefined;
  whatsapp_link?: string | undefined;
  catalog_url?: string | undefined;
}

const CHANNEL_NAMES: Record<Channel, string> = { whatsapp: 'WhatsApp', telegram: 'Telegram', avito: 'Avito' };

/**
 * Fills the seed's placeholders: `{AGENT_NAME}`, `{BRAND}`, `{CITY}` from the passport, `{CHANNEL}` from the
 * dialogue's channel (fallback `WhatsApp`), `{WHATSAPP_LINK}` and `{CATALOG_URL}` from the settings (empty string
 * when unset), `{CURRENCY}` always `₽`. Other braces are left as written.
 */
export function renderPersona(template: string, values: PersonaValues, channel?: Channel | undefined): string {
  const map: Record<string, string> = {
    AGENT_NAME: values.agent_name ?? '',
    BRAND: values.brand ?? '',
    CITY: values.city ?? '',
    CHANNEL: channel === undefined ? 'WhatsApp' : CHANNEL_NAMES[channel],
    WHATSAPP_LINK: values.whatsapp_link ?? '',
    CATALOG_URL: values.catalog_url ?? '',
    CURRENCY: '₽',
  };
  return template.replace(/\{([A-Z_]+)\}/g, (whole, name: string) => map[name] ?? whole);
}

/** Reads the persona values out of a tenant's settings JSON (unknown shapes count as unset). */
export function personaValuesOf(settings: Record<string, unknown>): PersonaValues {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const passport =
    settings.passport && typeof settings.passport === 'object' ? (settings.passport as Record<string, unknown>) : {};
  return {
    agent_name: text(passport.agent_name),
    brand: text(passport.brand),
    city: text(passport.city),
    whatsapp_link: text(settings.whatsapp_link),
    catalog_url: text(settings.catalog_url),
  };
}

/** Per-tenant persona overrides (`messenger_personas`); no row = the default. */
export class PersonaStore {
  constructor(private readonly db: SqlQueryable) {}

  async get(tenant: number): Promise<string | undefined> {
    const rows = await this.db.query<{ template: string }>(
      'SELECT template FROM messenger_personas WHERE tenant = $1',
      [tenant],
    );
    return rows[0]?.template;
  }

  async set(tenant: number, template: string): Promise<void> {
    await this.db.query(
      `INSERT INTO messenger_personas (tenant, template) VALUES ($1, $2)
       ON CONFLICT (tenant) DO UPDATE SET template = EXCLUDED.template, updated_at = now()`,
      [tenant, template],
    );
  }

  async reset(tenant: number): Promise<void> {
    await this.db.query('DELETE FROM messenger_personas WHERE tenant = $1', [tenant]);
  }

  /** The tenant's template and where it comes from. */
  async effective(tenant: number): Promise<{ template: string; source: 'tenant' | 'default' }> {
    const own = await this.get(tenant);
    return own === undefined
      ? { template: DEFAULT_PERSONA_RU, source: 'default' }
      : { template: own, source: 'tenant' };
  }
}
