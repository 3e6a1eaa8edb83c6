import {
  type ClaimResult,
  type Clock,
  type CommandBus,
  type CommandBusOptions,
  type CommandExtra,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_DELIVERIES,
  type NewCommand,
  type PhoneCommand,
  type WakeListener,
} from '@callbridge/phone-protocol';
import { WakeRegistry } from '@callbridge/phone-protocol/wake';
import type { SqlDriver, SqlQueryable } from '../storage/sql-driver.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function toCommand(r: Row): PhoneCommand {
  const extra = typeof r.extra === 'string' ? (JSON.parse(r.extra) as CommandExtra) : (r.extra as CommandExtra | null);
  return {
    id: String(r.id),
    deviceId: String(r.device_id),
    phone: String(r.phone),
    enqueuedAt: num(r.enqueued_at),
    deliveries: num(r.deliveries),
    ...(extra ? { extra } : {}),
  };
}

const COLUMNS = 'id, device_id, phone, extra, enqueued_at, deliveries';

/**
 * `CommandBus` port of phone-protocol on the `phone_commands` table (PGlite or PostgreSQL), so queued
 * click-to-call commands survive a restart. Claims lock rows with `FOR UPDATE SKIP LOCKED`: one delivery goes
 * to exactly one poll. Wake-ups are in-process only; several instances share commands through REDIS_URL
 * (RedisCommandBus) instead — without it a poll held on another instance sees a command on its next poll.
 */
export class SqlCommandBus implements CommandBus {
  private readonly clock: Clock;
  private readonly ackTimeoutMs: number;
  private readonly maxDeliveries: number;
  private readonly onDeadLetter: (command: PhoneCommand) => void;
  private wakeups = new WakeRegistry();

  constructor(
    private readonly db: SqlDriver,
    options: CommandBusOptions,
  ) {
    this.clock = options.clock;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.onDeadLetter = options.onDeadLetter ?? (() => {});
  }

  async enqueue(input: NewCommand): Promise<PhoneCommand> {
    const rows = await this.db.query(
      `INSERT INTO phone_commands (id, device_id, phone, extra, enqueued_at, seq, state)
       VALUES ($1, $2, $3, $4::jsonb, $5, nextval('phone_command_seq'), 'queued')
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [input.id, input.deviceId, input.phone, input.extra ? JSON.stringify(input.extra) : null, this.clock.now()],
    );
    if (rows[0]) {
      this.wake(input.deviceId);
      return toCommand(rows[0]);
    }
    const existing = await this.get(input.id);
    // Acked between our insert and read: report what was asked for.
    return existing ?? { ...input, enqueuedAt: this.clock.now(), deliveries: 0 };
  }

  async claim(deviceId: string): Promise<ClaimResult> {
    const now = this.clock.now();
    const dead: PhoneCommand[] = [];
    const result = await this.db.transaction(async (tx) => {
      for (;;) {
        const expired = await tx.query(
          `SELECT ${COLUMNS} FROM phone_commands WHERE device_id = $1 AND state = 'inflight' AND deadline <= $2
           ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [deviceId, now],
        );
        const candidate = expired[0] ? toCommand(expired[0]) : undefined;
        if (candidate && candidate.deliveries >= this.maxDeliveries) {
          await tx.query('DELETE FROM phone_commands WHERE id = $1', [candidate.id]);
          dead.push(candidate);
          continue;
        }
        const next =
          candidate ??
          (
            await tx.query(
              `SELECT ${COLUMNS} FROM phone_commands WHERE device_id = $1 AND state = 'queued'
               ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
              [deviceId],
            )
          ).map(toCommand)[0];
        if (next) {
          const claimed = await tx.query(
            `UPDATE phone_commands SET state = 'inflight', deadline = $2, deliveries = deliveries + 1
             WHERE id = $1 RETURNING ${COLUMNS}`,
            [next.id, now + this.ackTimeoutMs],
          );
          return { command: toCommand(claimed[0] as Row) };
        }
        return this.retryAt(tx, deviceId);
      }
    });
    for (const command of dead) this.onDeadLetter(command);
    return result;
  }

  private async retryAt(tx: SqlQueryable, deviceId: string): Promise<ClaimResult> {
    const rows = await tx.query(
      `SELECT min(deadline) AS at FROM phone_commands WHERE device_id = $1 AND state = 'inflight'`,
      [deviceId],
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? {} : { retryAt: num(at) };
  }

  async get(commandId: string): Promise<PhoneCommand | undefined> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM phone_commands WHERE id = $1`, [commandId]);
    return rows[0] ? toCommand(rows[0]) : undefined;
  }

  async ack(commandId: string): Promise<PhoneCommand | undefined> {
    const rows = await this.db.query(`DELETE FROM phone_commands WHERE id = $1 RETURNING ${COLUMNS}`, [commandId]);
    return rows[0] ? toCommand(rows[0]) : undefined;
  }

  async release(commandId: string): Promise<void> {
    // A negative sequence value puts the command in front of everything queued before.
    const rows = await this.db.query(
      `UPDATE phone_commands SET state = 'queued', deadline = NULL, seq = -nextval('phone_command_seq')
       WHERE id = $1 AND state = 'inflight' RETURNING device_id`,
      [commandId],
    );
    if (rows[0]) this.wake(String(rows[0].device_id));
  }

  async size(deviceId: string): Promise<number> {
    const rows = await this.db.query('SELECT count(*) AS n FROM phone_commands WHERE device_id = $1', [deviceId]);
    return num(rows[0]?.n ?? 0);
  }

  /** Commands waiting or in flight, all devices (for /stats). */
  async total(): Promise<number> {
    const rows = await this.db.query('SELECT count(*) AS n FROM phone_commands');
    return num(rows[0]?.n ?? 0);
  }

  subscribe(deviceId: string, onWake: () => void): () => void {
    return this.wakeups.add(deviceId, onWake);
  }

  /** Lets the long-poll hub share one wake-up listener across every held poll (no closure per poll). */
  watch(deviceId: string, onWake: WakeListener): void {
    this.wakeups.addListener(deviceId, onWake);
  }

  unwatch(deviceId: string, onWake: WakeListener): void {
    this.wakeups.remove(deviceId, onWake);
  }

  private wake(deviceId: string): void {
    this.wakeups.wake(deviceId);
  }

  async close(): Promise<void> {
    this.wakeups = new WakeRegistry();
  }
}
