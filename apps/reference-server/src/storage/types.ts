/** Storage port of the reference server; implemented over PGlite and node-postgres with the same SQL. */

import type { SqlDriver } from './sql-driver.js';

export interface Enterprise {
  number: string;
  name: string;
  /** The PBX token's digest (`sha256:…`, see token-digest.ts); compare with `matchesStoredToken`. */
  pbxToken: string | null;
  active: boolean;
  integrationsConfig: Record<string, unknown>;
  adminTokenVersion: number;
}

export type IntegrationLogStatus = 'success' | 'error' | 'warning' | 'skipped';

export interface IntegrationLogInput {
  enterpriseNumber: string;
  integrationType: string;
  eventType: string;
  callUniqueId?: string | null;
  /** `in` / `out` for rows about a call. */
  direction?: 'in' | 'out' | null;
  /** The customer's number (E.164) for rows about a call. */
  phone?: string | null;
  requestData?: unknown;
  responseData?: unknown;
  /** `warning`: accepted but something was lost; `skipped`: no CRM call on purpose. */
  status: IntegrationLogStatus;
  errorMessage?: string | null;
  durationMs?: number | null;
}

export interface IntegrationLog extends Required<IntegrationLogInput> {
  id: number;
  createdAt: string;
}

export interface IntegrationLogFilter {
  enterpriseNumber: string;
  integrationType?: string;
  eventType?: string;
  status?: IntegrationLogStatus;
  callUniqueId?: string;
  /** Digits a phone number of the call contains (the `phone` column when present, any `phone` in request_data). */
  phoneDigits?: string;
  since?: Date;
  until?: Date;
  limit: number;
  offset: number;
}

export interface InternalPhone {
  phoneNumber: string;
  userId: number | null;
  ownerName: string | null;
}

export interface DeadLetterInput {
  queue: string;
  enterpriseNumber?: string | null;
  jobId?: string | null;
  payload: unknown;
  errorMessage?: string | null;
  attempts: number;
}

export interface DeadLetter extends Required<DeadLetterInput> {
  id: number;
  createdAt: string;
  /** When it was last re-sent from the admin API (null: never). */
  resentAt: string | null;
  /** How many times it was re-sent (part of the re-sent job's id, so the queue does not drop it as a duplicate). */
  resendCount: number;
}

/** One enterprise's dead letters, newest first; `before` pages by id. */
export interface DeadLetterPage {
  enterpriseNumber: string;
  limit: number;
  before?: number;
}

/** Outcome of claiming a dead letter for re-send (see {@link Storage.claimDeadLetterResend}). */
export type DeadLetterClaim =
  | { status: 'claimed'; item: DeadLetter }
  | { status: 'pending'; item: DeadLetter }
  | { status: 'not_found' };

/** Receives the current sub-config (or undefined) and returns the new one (undefined removes it). */
export type ConfigUpdater = (
  current: Record<string, unknown> | undefined,
) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

export interface Storage {
  readonly kind: 'pglite' | 'postgres';
  /**
   * The database itself, for the feature modules that keep their own tables and migration lists (src/phone,
   * src/messenger). Core tables are reached through the methods below only.
   */
  readonly sql: SqlDriver;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  upsertEnterprise(e: {
    number: string;
    name: string;
    pbxToken?: string | null;
    active?: boolean;
  }): Promise<Enterprise>;
  getEnterprise(number: string): Promise<Enterprise | undefined>;
  findEnterpriseByPbxToken(token: string): Promise<Enterprise | undefined>;
  listEnterprises(): Promise<Enterprise[]>;
  /** Atomically read-modify-write one integration's sub-config (row locked for the transaction). */
  updateIntegrationConfig(
    number: string,
    integrationType: string,
    updater: ConfigUpdater,
  ): Promise<Record<string, unknown> | undefined>;
  /** Increments and returns the enterprise's admin token version (revokes every earlier JWT). */
  bumpAdminTokenVersion(number: string): Promise<number>;

  insertIntegrationLog(log: IntegrationLogInput): Promise<number>;
  listIntegrationLogs(filter: IntegrationLogFilter): Promise<{ items: IntegrationLog[]; total: number }>;

  createUser(u: { enterpriseNumber: string; firstName?: string; lastName?: string; email?: string }): Promise<number>;
  upsertInternalPhone(p: { enterpriseNumber: string; phoneNumber: string; userId?: number | null }): Promise<void>;
  listInternalPhones(enterpriseNumber: string): Promise<InternalPhone[]>;

  insertDeadLetter(d: DeadLetterInput): Promise<number>;
  listDeadLetters(queue?: string, limit?: number): Promise<DeadLetter[]>;
  countDeadLetters(): Promise<number>;
  /** Dead letters of one enterprise only, newest first. */
  listEnterpriseDeadLetters(page: DeadLetterPage): Promise<DeadLetter[]>;
  /** One dead letter, only when it belongs to `enterpriseNumber`. */
  getEnterpriseDeadLetter(enterpriseNumber: string, id: number): Promise<DeadLetter | undefined>;
  /**
   * Atomically marks a dead letter re-sent (sets `resent_at`, bumps `resend_count`) unless it was already
   * re-sent less than `pendingForMs` ago (`pending`: the earlier re-send may still be queued).
   */
  claimDeadLetterResend(enterpriseNumber: string, id: number, pendingForMs: number): Promise<DeadLetterClaim>;
  /** Undoes a claim whose enqueue failed, so the dead letter can be re-sent again right away. */
  releaseDeadLetterResend(id: number, resendCount: number): Promise<void>;
}
