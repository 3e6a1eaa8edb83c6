import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from './auth.js';
import { ErrorCodes, MessengerContractError } from './errors.js';

/** Second key for a tenant: the seed's `409 key_already_exists` (delete the current key first). */
export class KeyAlreadyExistsError extends MessengerContractError {
  /** HTTP status to answer: always 409. */
  readonly httpStatus = 409;
  constructor() {
    super(ErrorCodes.keyAlreadyExists, 'tenant already has a key');
    this.name = 'KeyAlreadyExistsError';
  }
}

/** Port: one access key per tenant (`1 tenant = 1 key`). `create` is an atomic insert. */
export interface TenantKeyStore {
  /** The tenant's key, or undefined when it has none. */
  get(tenant: number): Promise<string | undefined>;
  /** Throws KeyAlreadyExistsError when the tenant already has a key. */
  create(tenant: number, key: string): Promise<void>;
  /** Returns whether a key was deleted. */
  delete(tenant: number): Promise<boolean>;
}

export class InMemoryTenantKeyStore implements TenantKeyStore {
  private readonly keys = new Map<number, string>();
  async get(tenant: number): Promise<string | undefined> {
    return this.keys.get(tenant);
  }
  async create(tenant: number, key: string): Promise<void> {
    if (this.keys.has(tenant)) throw new KeyAlreadyExistsError();
    this.keys.set(tenant, key);
  }
  async delete(tenant: number): Promise<boolean> {
    return this.keys.delete(tenant);
  }
}

/** A fresh URL-safe key (192 bits). */
export function generateTenantKey(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * `GET /admin/key/get`: the tenant's key, created on first call. Concurrent first calls all get the same key (the
 * loser of the insert race reads the winner's key).
 */
export async function getOrCreateTenantKey(
  store: TenantKeyStore,
  tenant: number,
  generate: () => string = generateTenantKey,
): Promise<string> {
  const existing = await store.get(tenant);
  if (existing !== undefined) return existing;
  try {
    const key = generate();
    await store.create(tenant, key);
    return key;
  } catch (error) {
    if (!(error instanceof KeyAlreadyExistsError)) throw error;
    const winner = await store.get(tenant);
    if (winner === undefined) throw error;
    return winner;
  }
}

/** Checks `k` of `/connect/wa?tenant=…&k=…` (constant-time). */
export async function verifyTenantKey(
  store: Pick<TenantKeyStore, 'get'>,
  tenant: number,
  k: string | undefined,
): Promise<boolean> {
  if (k === undefined || k === '') return false;
  const expected = await store.get(tenant);
  return expected !== undefined && constantTimeEqual(k, expected);
}

/** The seed's client link: `/connect/wa?tenant={ID}&k={TENANT_KEY}` (the key unquoted, URL-encoded). */
export function connectLink(
  baseUrl: string,
  tenant: number,
  key: string,
  channel: 'wa' | 'tg' | 'avito' = 'wa',
): string {
  return `${baseUrl.replace(/\/+$/, '')}/connect/${channel}?tenant=${tenant}&k=${encodeURIComponent(key)}`;
}
