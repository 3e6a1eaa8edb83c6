import type { LogsBundle, TelemetryBatch } from '@callbridge/phone-protocol';
import type { SqlQueryable } from '../storage/sql-driver.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

export interface TelemetrySummary {
  /** Items received within the window. */
  items: number;
  by_type: Record<string, { count: number; avg_ms: number | null; max_ms: number | null }>;
  by_http_code: Record<string, number>;
  last_received_at: string | null;
  log_bundles: number;
}

/** Device telemetry items and support log bundles (`phone_telemetry`, `phone_logs`). */
export class PhoneTelemetryStore {
  constructor(private readonly db: SqlQueryable) {}

  async addBatch(batch: TelemetryBatch, userId: string, now: number): Promise<void> {
    if (batch.items.length === 0) return;
    const params: unknown[] = [];
    const values = batch.items.map((item) => {
      params.push(
        batch.device_id,
        userId,
        item.ts ?? null,
        item.type,
        item.endpoint ?? null,
        item.http_code ?? null,
        item.value_ms ?? null,
        item.extra ? JSON.stringify(item.extra) : null,
        now,
      );
      const base = params.length - 9;
      return `(${Array.from({ length: 9 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await this.db.query(
      `INSERT INTO phone_telemetry (device_id, user_id, ts, type, endpoint, http_code, value_ms, extra, received_at)
       VALUES ${values.join(', ')}`,
      params,
    );
  }

  async addLogs(bundle: LogsBundle, userId: string, now: number): Promise<void> {
    await this.db.query(
      `INSERT INTO phone_logs (device_id, user_id, ts, level_summary, source, payload, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        bundle.device_id,
        userId,
        bundle.ts ?? null,
        bundle.level_summary ?? null,
        bundle.source ?? null,
        bundle.payload,
        now,
      ],
    );
  }

  async summary(since: number): Promise<TelemetrySummary> {
    const byType = await this.db.query(
      `SELECT type, count(*) AS n, avg(value_ms) AS avg_ms, max(value_ms) AS max_ms, max(received_at) AS last
         FROM phone_telemetry WHERE received_at >= $1 GROUP BY type ORDER BY type`,
      [since],
    );
    const byCode = await this.db.query(
      `SELECT http_code, count(*) AS n FROM phone_telemetry
        WHERE received_at >= $1 AND http_code IS NOT NULL GROUP BY http_code ORDER BY http_code`,
      [since],
    );
    const logs = await this.db.query('SELECT count(*) AS n FROM phone_logs WHERE received_at >= $1', [since]);
    const out: TelemetrySummary = {
      items: 0,
      by_type: {},
      by_http_code: {},
      last_received_at: null,
      log_bundles: num(logs[0]?.n ?? 0),
    };
    let last = 0;
    for (const r of byType) {
      const count = num(r.n);
      out.items += count;
      out.by_type[String(r.type)] = {
        count,
        avg_ms: r.avg_ms === null ? null : Math.round(num(r.avg_ms)),
        max_ms: r.max_ms === null ? null : num(r.max_ms),
      };
      last = Math.max(last, num(r.last));
    }
    for (const r of byCode) out.by_http_code[String(r.http_code)] = num(r.n);
    if (last > 0) out.last_received_at = new Date(last).toISOString();
    return out;
  }
}
