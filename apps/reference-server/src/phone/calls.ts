import type { ExtendedCallUpdate } from '@callbridge/phone-protocol';
import type { SqlQueryable } from '../storage/sql-driver.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const jsonValue = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export interface ClickToCall {
  commandId: string;
  enterpriseNumber: string;
  retailcrmUserId: string | null;
  extension: string;
  phone: string;
  phoneUserId: string;
  deviceId: string;
  createdAt: number;
}

export interface DueUpload extends ClickToCall {
  result: ExtendedCallUpdate;
  resultAt: number;
  attempts: number;
}

export type UploadState = 'none' | 'pending' | 'uploaded' | 'failed';

function toDue(r: Row): DueUpload {
  return {
    commandId: String(r.command_id),
    enterpriseNumber: String(r.enterprise_number),
    retailcrmUserId: (r.retailcrm_user_id as string | null) ?? null,
    extension: String(r.extension),
    phone: String(r.phone),
    phoneUserId: String(r.phone_user_id),
    deviceId: String(r.device_id),
    createdAt: num(r.created_at),
    result: jsonValue(r.result) as ExtendedCallUpdate,
    resultAt: num(r.result_at),
    attempts: num(r.upload_attempts),
  };
}

/** The columns every `phone_calls` insert binds first, in `callParams` order. */
const CALL_COLUMNS =
  'command_id, enterprise_number, retailcrm_user_id, extension, phone, phone_user_id, device_id, created_at';

const callParams = (call: ClickToCall, createdAt: number) => [
  call.commandId,
  call.enterpriseNumber,
  call.retailcrmUserId,
  call.extension,
  call.phone,
  call.phoneUserId,
  call.deviceId,
  createdAt,
];

/**
 * Click-to-call commands and the outbox of their results (`phone_calls`). A row is created when RetailCRM asks
 * for a call, gets the device's result exactly once (the first calls/update wins) and then moves
 * `pending -> uploaded | failed` as the uploader works through it. Leases keep two instances off the same row.
 */
export class PhoneCallStore {
  constructor(private readonly db: SqlQueryable) {}

  async insert(call: ClickToCall): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_calls (${CALL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      callParams(call, call.createdAt),
    );
  }

  /**
   * Stores the result if this is the first one for the command and it comes from the user the command was
   * sent to. Returns false for duplicates, unknown ids (manual calls: see manual-calls.ts) and foreign users.
   */
  async recordResult(commandId: string, phoneUserId: string, update: ExtendedCallUpdate, now: number) {
    const rows = await this.db.query(
      `UPDATE phone_calls SET call_status = $3, result = $4::jsonb, result_at = $5, upload_state = 'pending',
         next_attempt_at = $5
       WHERE command_id = $1 AND phone_user_id = $2 AND result_at IS NULL RETURNING command_id`,
      [commandId, phoneUserId, update.call_status, JSON.stringify(update), now],
    );
    return rows.length > 0;
  }

  /**
   * Inserts a call together with its result (a call the server never commanded, e.g. a manual one), due for upload
   * at once, or kept as `none` with `unuploadable` as the reason. Returns false when the id is already stored.
   */
  async insertResult(call: ClickToCall, update: ExtendedCallUpdate, now: number, unuploadable?: string) {
    const rows = await this.db.query(
      `INSERT INTO phone_calls (${CALL_COLUMNS}, call_status, result, result_at, upload_state, next_attempt_at,
         last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $8, $11, $8, $12)
       ON CONFLICT (command_id) DO NOTHING RETURNING command_id`,
      [
        ...callParams(call, now),
        update.call_status,
        JSON.stringify(update),
        unuploadable === undefined ? 'pending' : 'none',
        unuploadable ?? null,
      ],
    );
    return rows.length > 0 && unuploadable === undefined;
  }

  /** Leases up to `limit` due uploads (attempts counted here, so a crash mid-upload still counts). */
  async claimDue(now: number, leaseMs: number, limit = 20): Promise<DueUpload[]> {
    const rows = await this.db.query(
      `UPDATE phone_calls SET lease_until = $2, upload_attempts = upload_attempts + 1
       WHERE command_id IN (
         SELECT command_id FROM phone_calls
          WHERE upload_state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now, now + leaseMs, limit],
    );
    return rows.map(toDue);
  }

  async markUploaded(commandId: string, now: number): Promise<void> {
    await this.db.query(
      `UPDATE phone_calls SET upload_state = 'uploaded', uploaded_at = $2, lease_until = NULL, last_error = NULL
       WHERE command_id = $1`,
      [commandId, now],
    );
  }

  async markRetry(commandId: string, nextAttemptAt: number, error: string): Promise<void> {
    await this.db.query(
      'UPDATE phone_calls SET next_attempt_at = $2, lease_until = NULL, last_error = $3 WHERE command_id = $1',
      [commandId, nextAttemptAt, error],
    );
  }

  async markFailed(commandId: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE phone_calls SET upload_state = 'failed', lease_until = NULL, last_error = $2 WHERE command_id = $1`,
      [commandId, error],
    );
  }

  async get(commandId: string) {
    const rows = await this.db.query('SELECT * FROM phone_calls WHERE command_id = $1', [commandId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      commandId: String(r.command_id),
      enterpriseNumber: String(r.enterprise_number),
      callStatus: (r.call_status as string | null) ?? null,
      uploadState: r.upload_state as UploadState,
      uploadAttempts: num(r.upload_attempts),
      lastError: (r.last_error as string | null) ?? null,
      uploadedAt: optNum(r.uploaded_at),
    };
  }

  async countsByState(): Promise<Record<UploadState, number>> {
    const rows = await this.db.query('SELECT upload_state, count(*) AS n FROM phone_calls GROUP BY upload_state');
    const out: Record<UploadState, number> = { none: 0, pending: 0, uploaded: 0, failed: 0 };
    for (const r of rows) out[r.upload_state as UploadState] = num(r.n);
    return out;
  }
}
