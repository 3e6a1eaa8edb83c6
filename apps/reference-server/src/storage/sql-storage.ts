import { isTokenDigest, tokenDigest } from '../token-digest.js';
import { migrations } from './migrations.js';
import type { SqlDriver, SqlQueryable } from './sql-driver.js';
import type {
  ConfigUpdater,
  DeadLetter,
  DeadLetterClaim,
  DeadLetterInput,
  DeadLetterPage,
  Enterprise,
  IntegrationLog,
  IntegrationLogFilter,
  IntegrationLogInput,
  IntegrationLogStatus,
  InternalPhone,
  Storage,
} from './types.js';

type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
/** pg and PGlite both parse jsonb, but be tolerant of a driver that hands back text. */
const parsed = (v: unknown): unknown => (typeof v === 'string' ? safeParse(v) : v);
function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function toEnterprise(r: Row): Enterprise {
  const cfg = parsed(r.integrations_config);
  return {
    number: String(r.number),
    name: String(r.name),
    pbxToken: (r.pbx_token as string | null) ?? null,
    active: Boolean(r.active),
    integrationsConfig: cfg && typeof cfg === 'object' ? (cfg as Record<string, unknown>) : {},
    adminTokenVersion: num(r.admin_token_version),
  };
}

function toLog(r: Row): IntegrationLog {
  return {
    id: num(r.id),
    enterpriseNumber: String(r.enterprise_number),
    integrationType: String(r.integration_type),
    eventType: String(r.event_type),
    callUniqueId: (r.call_unique_id as string | null) ?? null,
    direction: (r.direction as 'in' | 'out' | null) ?? null,
    phone: (r.phone as string | null) ?? null,
    requestData: parsed(r.request_data) ?? null,
    responseData: parsed(r.response_data) ?? null,
    status: r.status as IntegrationLogStatus,
    errorMessage: (r.error_message as string | null) ?? null,
    durationMs: r.duration_ms === null || r.duration_ms === undefined ? null : num(r.duration_ms),
    createdAt: iso(r.created_at),
  };
}

function toDeadLetter(r: Row): DeadLetter {
  return {
    id: num(r.id),
    queue: String(r.queue),
    enterpriseNumber: (r.enterprise_number as string | null) ?? null,
    jobId: (r.job_id as string | null) ?? null,
    payload: parsed(r.payload),
    errorMessage: (r.error_message as string | null) ?? null,
    attempts: num(r.attempts),
    createdAt: iso(r.created_at),
    resentAt: r.resent_at === null || r.resent_at === undefined ? null : iso(r.resent_at),
    resendCount: r.resend_count === undefined ? 0 : num(r.resend_count),
  };
}

/** `phone` values anywhere in request_data, digits only (RetailCRM call events and uploads both name it `phone`). */
const REQUEST_PHONE_DIGITS = `EXISTS (SELECT 1 FROM jsonb_path_query(request_data, 'lax $.**.phone') AS p
  WHERE regexp_replace(p #>> '{}', '[^0-9]', '', 'g') LIKE ?)`;

const storedTokenDigest = (token: string) => (isTokenDigest(token) ? token : tokenDigest(token));

const ENTERPRISE_COLUMNS = 'number, name, pbx_token, active, integrations_config, admin_token_version';

/** The one Storage implementation; PGlite and PostgreSQL differ only in their {@link SqlDriver}. */
export class SqlStorage implements Storage {
  constructor(private readonly db: SqlDriver) {}

  get kind() {
    return this.db.kind;
  }

  /** The underlying driver, for feature stores that keep their own tables (src/phone, src/messenger). */
  get sql(): SqlDriver {
    return this.db;
  }

  async migrate(): Promise<void> {
    await this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    // Version order, whatever order the list was appended in (each feature owns a version range).
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      await this.db.transaction(async (tx) => {
        // Serialises concurrent instances migrating the same database.
        await tx.query('SELECT pg_advisory_xact_lock(7291003)');
        const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (done.length > 0) return;
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
    }
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async upsertEnterprise(e: { number: string; name: string; pbxToken?: string | null; active?: boolean }) {
    const rows = await this.db.query(
      `INSERT INTO enterprises (number, name, pbx_token, active) VALUES ($1, $2, $3, $4)
       ON CONFLICT (number) DO UPDATE SET name = EXCLUDED.name, pbx_token = EXCLUDED.pbx_token,
         active = EXCLUDED.active, updated_at = now()
       RETURNING ${ENTERPRISE_COLUMNS}`,
      // Only the digest is stored (see token-digest.ts); a value that already is one is kept as it is.
      [e.number, e.name, e.pbxToken ? storedTokenDigest(e.pbxToken) : null, e.active ?? true],
    );
    return toEnterprise(rows[0] as Row);
  }

  async getEnterprise(number: string) {
    const rows = await this.db.query(`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE number = $1`, [number]);
    return rows[0] ? toEnterprise(rows[0]) : undefined;
  }

  async findEnterpriseByPbxToken(token: string) {
    const rows = await this.db.query(`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE pbx_token = $1`, [
      tokenDigest(token),
    ]);
    return rows[0] ? toEnterprise(rows[0]) : undefined;
  }

  async listEnterprises() {
    const rows = await this.db.query(`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises ORDER BY number`);
    return rows.map(toEnterprise);
  }

  updateIntegrationConfig(number: string, integrationType: string, updater: ConfigUpdater) {
    return this.db.transaction(async (tx: SqlQueryable) => {
      const rows = await tx.query('SELECT integrations_config FROM enterprises WHERE number = $1 FOR UPDATE', [number]);
      if (!rows[0]) throw new EnterpriseNotFoundError(number);
      const all = (parsed(rows[0].integrations_config) ?? {}) as Record<string, unknown>;
      const current = all[integrationType];
      const next = await updater(
        current && typeof current === 'object' ? (current as Record<string, unknown>) : undefined,
      );
      if (next === undefined) {
        await tx.query(
          'UPDATE enterprises SET integrations_config = integrations_config - $2::text, updated_at = now() WHERE number = $1',
          [number, integrationType],
        );
      } else {
        await tx.query(
          `UPDATE enterprises SET integrations_config = jsonb_set(integrations_config, ARRAY[$2::text], $3::jsonb, true),
             updated_at = now() WHERE number = $1`,
          [number, integrationType, JSON.stringify(next)],
        );
      }
      return next;
    });
  }

  async bumpAdminTokenVersion(number: string) {
    const rows = await this.db.query(
      'UPDATE enterprises SET admin_token_version = admin_token_version + 1, updated_at = now() WHERE number = $1 RETURNING admin_token_version',
      [number],
    );
    if (!rows[0]) throw new EnterpriseNotFoundError(number);
    return num(rows[0].admin_token_version);
  }

  async insertIntegrationLog(log: IntegrationLogInput) {
    const rows = await this.db.query(
      `INSERT INTO integration_logs (enterprise_number, integration_type, event_type, call_unique_id, request_data,
         response_data, status, error_message, duration_ms, direction, phone)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11) RETURNING id`,
      [
        log.enterpriseNumber,
        log.integrationType,
        log.eventType,
        log.callUniqueId ?? null,
        json(log.requestData),
        json(log.responseData),
        log.status,
        log.errorMessage ?? null,
        log.durationMs === undefined || log.durationMs === null ? null : Math.round(log.durationMs),
        log.direction ?? null,
        log.phone ?? null,
      ],
    );
    return num((rows[0] as Row).id);
  }

  async listIntegrationLogs(f: IntegrationLogFilter) {
    const where = ['enterprise_number = $1'];
    const params: unknown[] = [f.enterpriseNumber];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replaceAll('?', `$${params.length}`));
    };
    if (f.integrationType) add('integration_type = ?', f.integrationType);
    if (f.eventType) add('event_type = ?', f.eventType);
    if (f.status) add('status = ?', f.status);
    if (f.callUniqueId) add('call_unique_id = ?', f.callUniqueId);
    if (f.phoneDigits) {
      // Rows written before the phone column existed still carry the number inside request_data.
      add(
        `(${REQUEST_PHONE_DIGITS} OR regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') LIKE ?)`,
        `%${f.phoneDigits}%`,
      );
    }
    if (f.since) add('created_at >= ?', f.since.toISOString());
    if (f.until) add('created_at < ?', f.until.toISOString());
    const whereSql = where.join(' AND ');
    const countRows = await this.db.query(`SELECT count(*) AS n FROM integration_logs WHERE ${whereSql}`, params);
    const rows = await this.db.query(
      `SELECT * FROM integration_logs WHERE ${whereSql} ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, f.limit, f.offset],
    );
    return { items: rows.map(toLog), total: num((countRows[0] as Row).n) };
  }

  async createUser(u: { enterpriseNumber: string; firstName?: string; lastName?: string; email?: string }) {
    const rows = await this.db.query(
      'INSERT INTO users (enterprise_number, first_name, last_name, email) VALUES ($1, $2, $3, $4) RETURNING id',
      [u.enterpriseNumber, u.firstName ?? null, u.lastName ?? null, u.email ?? null],
    );
    return num((rows[0] as Row).id);
  }

  async upsertInternalPhone(p: { enterpriseNumber: string; phoneNumber: string; userId?: number | null }) {
    await this.db.query(
      `INSERT INTO user_internal_phones (enterprise_number, phone_number, user_id) VALUES ($1, $2, $3)
       ON CONFLICT (enterprise_number, phone_number) DO UPDATE SET user_id = EXCLUDED.user_id`,
      [p.enterpriseNumber, p.phoneNumber, p.userId ?? null],
    );
  }

  async listInternalPhones(enterpriseNumber: string): Promise<InternalPhone[]> {
    const rows = await this.db.query(
      `SELECT p.phone_number, p.user_id, u.first_name, u.last_name
         FROM user_internal_phones p LEFT JOIN users u ON u.id = p.user_id
        WHERE p.enterprise_number = $1
        ORDER BY length(p.phone_number), p.phone_number`,
      [enterpriseNumber],
    );
    return rows.map((r) => {
      const name = [r.first_name, r.last_name].filter((x) => typeof x === 'string' && x !== '').join(' ');
      return {
        phoneNumber: String(r.phone_number),
        userId: r.user_id === null || r.user_id === undefined ? null : num(r.user_id),
        ownerName: name === '' ? null : name,
      };
    });
  }

  async insertDeadLetter(d: DeadLetterInput) {
    const rows = await this.db.query(
      `INSERT INTO dead_letters (queue, enterprise_number, job_id, payload, error_message, attempts)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6) RETURNING id`,
      [
        d.queue,
        d.enterpriseNumber ?? null,
        d.jobId ?? null,
        JSON.stringify(d.payload ?? null),
        d.errorMessage ?? null,
        d.attempts,
      ],
    );
    return num((rows[0] as Row).id);
  }

  async listDeadLetters(queue?: string, limit = 100): Promise<DeadLetter[]> {
    const rows = queue
      ? await this.db.query('SELECT * FROM dead_letters WHERE queue = $1 ORDER BY id DESC LIMIT $2', [queue, limit])
      : await this.db.query('SELECT * FROM dead_letters ORDER BY id DESC LIMIT $1', [limit]);
    return rows.map(toDeadLetter);
  }

  async listEnterpriseDeadLetters(page: DeadLetterPage): Promise<DeadLetter[]> {
    const rows = await this.db.query(
      `SELECT * FROM dead_letters WHERE enterprise_number = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [page.enterpriseNumber, page.before ?? null, page.limit],
    );
    return rows.map(toDeadLetter);
  }

  async getEnterpriseDeadLetter(enterpriseNumber: string, id: number): Promise<DeadLetter | undefined> {
    const rows = await this.db.query('SELECT * FROM dead_letters WHERE id = $1 AND enterprise_number = $2', [
      id,
      enterpriseNumber,
    ]);
    return rows[0] ? toDeadLetter(rows[0]) : undefined;
  }

  async claimDeadLetterResend(enterpriseNumber: string, id: number, pendingForMs: number): Promise<DeadLetterClaim> {
    // One statement: two concurrent re-sends cannot both claim it.
    const claimed = await this.db.query(
      `UPDATE dead_letters SET resent_at = now(), resend_count = resend_count + 1
        WHERE id = $1 AND enterprise_number = $2
          AND (resent_at IS NULL OR resent_at <= now() - make_interval(secs => $3::double precision / 1000))
        RETURNING *`,
      [id, enterpriseNumber, pendingForMs],
    );
    if (claimed[0]) return { status: 'claimed', item: toDeadLetter(claimed[0]) };
    const existing = await this.getEnterpriseDeadLetter(enterpriseNumber, id);
    return existing ? { status: 'pending', item: existing } : { status: 'not_found' };
  }

  async releaseDeadLetterResend(id: number, resendCount: number): Promise<void> {
    await this.db.query('UPDATE dead_letters SET resent_at = NULL WHERE id = $1 AND resend_count = $2', [
      id,
      resendCount,
    ]);
  }

  async countDeadLetters() {
    const rows = await this.db.query('SELECT count(*) AS n FROM dead_letters');
    return num((rows[0] as Row).n);
  }
}

export class EnterpriseNotFoundError extends Error {
  readonly code = 'enterprise_not_found';
  constructor(readonly enterpriseNumber: string) {
    super(`enterprise ${enterpriseNumber} not found`);
    this.name = 'EnterpriseNotFoundError';
  }
}
