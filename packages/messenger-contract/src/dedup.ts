import { type Clock, systemClock } from './ports.js';

/** Identity of an inbound event for de-duplication. */
export interface InboundKey {
  /** Tenant the event belongs to. */
  tenant: number;
  /** Provider, or a namespace derived from it (e.g. `whatsapp:status:delivered`, `send:telegram`). */
  provider: string;
  /** The provider's message id (or the caller's client_msg_id for sends). */
  message_id: string;
}

/**
 * Port: inbound de-duplication by (tenant, provider, message_id). `claim` is atomic: among concurrent callers with
 * the same key exactly one gets true. `release` forgets a claim so a failed processing can be retried.
 */
export interface InboundDedup {
  /** Claims the key: true for the first caller (process the event), false for a duplicate. */
  claim(key: InboundKey): Promise<boolean>;
  /** Forgets the claim so the provider's retry is processed again. */
  release(key: InboundKey): Promise<void>;
}

/** The key as one collision-free string (the storage key of the in-memory and Redis implementations). */
export function inboundKeyString(key: InboundKey): string {
  // Components are length-prefixed so `1:a:b` cannot collide with a provider or id containing ':'.
  return `${key.tenant}:${key.provider.length}:${key.provider}:${key.message_id}`;
}

/** Options of InMemoryInboundDedup. */
export interface InMemoryInboundDedupOptions {
  /** How long a claim is remembered (default 24 h). */
  ttlMs?: number;
  /** Bound on remembered keys; the oldest are dropped first (default 100 000). */
  maxEntries?: number;
  /** Time source for expiry (default: system clock). */
  clock?: Clock;
}

/** In-process InboundDedup (single instance). Insertion-ordered Map gives O(1) expiry of the oldest entries. */
export class InMemoryInboundDedup implements InboundDedup {
  private readonly seen = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(options: InMemoryInboundDedupOptions = {}) {
    this.ttlMs = options.ttlMs ?? 86_400_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.clock = options.clock ?? systemClock;
  }

  async claim(key: InboundKey): Promise<boolean> {
    const now = this.clock.now();
    this.evict(now);
    const id = inboundKeyString(key);
    const expires = this.seen.get(id);
    if (expires !== undefined && expires > now) return false;
    this.seen.delete(id);
    this.seen.set(id, now + this.ttlMs);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return true;
  }

  async release(key: InboundKey): Promise<void> {
    this.seen.delete(inboundKeyString(key));
  }

  /** Number of remembered claims (expired ones included until the next claim evicts them). */
  get size(): number {
    return this.seen.size;
  }

  private evict(now: number): void {
    // Entries are in expiry order because the TTL is constant.
    for (const [id, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(id);
    }
  }
}
