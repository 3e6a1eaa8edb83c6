import type {
  DeviceRecord,
  DeviceRegistry,
  PhoneUser,
  QrTokenStore,
  RevokedTokenStore,
  UserStore,
} from '@callbridge/phone-protocol';
import type { SqlQueryable } from '../storage/sql-driver.js';

type Row = Record<string, unknown>;

/** pg returns bigint as string and jsonb parsed; PGlite returns numbers: normalise both. */
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const jsonValue = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** A phone account plus the enterprise extension it answers for (the click-to-call mapping). */
export interface PhoneAccount extends PhoneUser {
  enterpriseNumber: string | null;
  extension: string | null;
}

function toAccount(r: Row): PhoneAccount {
  return {
    id: String(r.id),
    username: String(r.username),
    passwordHash: String(r.password_hash),
    isAdmin: Boolean(r.is_admin),
    isActive: Boolean(r.is_active),
    enterpriseNumber: (r.enterprise_number as string | null) ?? null,
    extension: (r.extension as string | null) ?? null,
  };
}

const USER_COLUMNS = 'id, username, password_hash, is_admin, is_active, enterprise_number, extension';

/** `UserStore` port of phone-protocol on the `phone_users` table. */
export class SqlPhoneUserStore implements UserStore {
  constructor(private readonly db: SqlQueryable) {}

  async findByUsername(username: string): Promise<PhoneAccount | undefined> {
    const rows = await this.db.query(`SELECT ${USER_COLUMNS} FROM phone_users WHERE username = $1`, [username]);
    return rows[0] ? toAccount(rows[0]) : undefined;
  }

  async findById(id: string): Promise<PhoneAccount | undefined> {
    const rows = await this.db.query(`SELECT ${USER_COLUMNS} FROM phone_users WHERE id = $1`, [id]);
    return rows[0] ? toAccount(rows[0]) : undefined;
  }

  /** Upsert by id; the enterprise/extension binding is left alone (see {@link assign}). */
  async save(user: PhoneUser): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_users (id, username, password_hash, is_admin, is_active) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash,
         is_admin = EXCLUDED.is_admin, is_active = EXCLUDED.is_active, updated_at = now()`,
      [user.id, user.username, user.passwordHash, user.isAdmin, user.isActive],
    );
  }

  /** Binds a user to an enterprise extension; whoever held that extension before loses it. */
  async assign(userId: string, enterpriseNumber: string, extension: string | null): Promise<void> {
    if (extension !== null) {
      await this.db.query(
        `UPDATE phone_users SET extension = NULL, updated_at = now()
          WHERE enterprise_number = $1 AND extension = $2 AND id <> $3`,
        [enterpriseNumber, extension, userId],
      );
    }
    await this.db.query(
      'UPDATE phone_users SET enterprise_number = $2, extension = $3, updated_at = now() WHERE id = $1',
      [userId, enterpriseNumber, extension],
    );
  }

  async findByExtension(enterpriseNumber: string, extension: string): Promise<PhoneAccount | undefined> {
    const rows = await this.db.query(
      `SELECT ${USER_COLUMNS} FROM phone_users WHERE enterprise_number = $1 AND extension = $2`,
      [enterpriseNumber, extension],
    );
    return rows[0] ? toAccount(rows[0]) : undefined;
  }

  async listByEnterprise(enterpriseNumber: string): Promise<PhoneAccount[]> {
    const rows = await this.db.query(
      `SELECT ${USER_COLUMNS} FROM phone_users WHERE enterprise_number = $1 ORDER BY username`,
      [enterpriseNumber],
    );
    return rows.map(toAccount);
  }
}

/** `DeviceRegistry` port: the whole record as JSON, plus the columns we query by. */
export class SqlDeviceRegistry implements DeviceRegistry {
  constructor(private readonly db: SqlQueryable) {}

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const rows = await this.db.query('SELECT record FROM phone_devices WHERE device_id = $1', [deviceId]);
    return rows[0] ? (jsonValue(rows[0].record) as DeviceRecord) : undefined;
  }

  async put(record: DeviceRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_devices (device_id, user_id, tenant, last_seen_at, record) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (device_id) DO UPDATE SET user_id = EXCLUDED.user_id, tenant = EXCLUDED.tenant,
         last_seen_at = EXCLUDED.last_seen_at, record = EXCLUDED.record`,
      [record.deviceId, record.userId, record.tenant ?? null, record.lastSeenAt, JSON.stringify(record)],
    );
  }

  /** One statement: the conflict update only applies to the same (tenant, user), so two claimers cannot both win. */
  async claim(record: DeviceRecord): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO phone_devices (device_id, user_id, tenant, last_seen_at, record) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (device_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, record = EXCLUDED.record
         WHERE phone_devices.user_id = EXCLUDED.user_id AND phone_devices.tenant IS NOT DISTINCT FROM EXCLUDED.tenant
       RETURNING device_id`,
      [record.deviceId, record.userId, record.tenant ?? null, record.lastSeenAt, JSON.stringify(record)],
    );
    return rows.length > 0;
  }

  async release(deviceId: string): Promise<DeviceRecord | undefined> {
    const rows = await this.db.query('DELETE FROM phone_devices WHERE device_id = $1 RETURNING record', [deviceId]);
    return rows[0] ? (jsonValue(rows[0].record) as DeviceRecord) : undefined;
  }

  async listByUser(userId: string): Promise<DeviceRecord[]> {
    const rows = await this.db.query('SELECT record FROM phone_devices WHERE user_id = $1 ORDER BY last_seen_at DESC', [
      userId,
    ]);
    return rows.map((r) => jsonValue(r.record) as DeviceRecord);
  }

  async list(): Promise<DeviceRecord[]> {
    const rows = await this.db.query('SELECT record FROM phone_devices ORDER BY last_seen_at DESC');
    return rows.map((r) => jsonValue(r.record) as DeviceRecord);
  }
}

/** `QrTokenStore` port: `DELETE … RETURNING` makes redemption single-use across instances. */
export class SqlQrTokenStore implements QrTokenStore {
  constructor(private readonly db: SqlQueryable) {}

  async put(digest: string, userId: string, expiresAt: number, _ttlMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_qr_tokens (digest, user_id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (digest) DO UPDATE SET user_id = EXCLUDED.user_id, expires_at = EXCLUDED.expires_at`,
      [digest, userId, expiresAt],
    );
  }

  async take(digest: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query('DELETE FROM phone_qr_tokens WHERE digest = $1 RETURNING user_id, expires_at', [
      digest,
    ]);
    // Expired tokens are swept lazily so the table cannot grow forever.
    await this.db.query('DELETE FROM phone_qr_tokens WHERE expires_at <= $1', [now]);
    const row = rows[0];
    return row && num(row.expires_at) > now ? String(row.user_id) : undefined;
  }
}

/**
 * `RevokedTokenStore` port: used refresh-token ids and revoked families, shared by every instance on one
 * database. The primary key makes the first `revoke` of a jti win; expired rows are swept on the way.
 */
export class SqlRevokedTokenStore implements RevokedTokenStore {
  constructor(private readonly db: SqlQueryable) {}

  async revoke(jti: string, expiresAt: number, now: number): Promise<boolean> {
    await this.db.query('DELETE FROM phone_revoked_tokens WHERE expires_at <= $1', [now]);
    const rows = await this.db.query(
      `INSERT INTO phone_revoked_tokens (id, kind, expires_at) VALUES ($1, 'jti', $2)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [`jti:${jti}`, expiresAt],
    );
    return rows.length > 0;
  }

  async revokeFamily(family: string, until: number, _now: number): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_revoked_tokens (id, kind, expires_at) VALUES ($1, 'family', $2)
       ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(phone_revoked_tokens.expires_at, EXCLUDED.expires_at)`,
      [`family:${family}`, until],
    );
  }

  async isFamilyRevoked(family: string, now: number): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM phone_revoked_tokens WHERE id = $1 AND expires_at > $2', [
      `family:${family}`,
      now,
    ]);
    return rows.length > 0;
  }
}
