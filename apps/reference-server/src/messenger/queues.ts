import { INBOX_QUEUE_KEY, type MessageIn, WA_QR_TTL_SECONDS, waQrCacheKeys } from '@callbridge/messenger-contract';
import type { Redis } from 'ioredis';

/** Port: where accepted inbound events go for the worker (the seed's Redis list `inbox:message_in`, LPUSH). */
export interface InboxQueue {
  push(event: MessageIn): Promise<void>;
  length(): Promise<number>;
}

/** In-process inbox (single instance, lost on restart): a bounded list, newest first like LPUSH. */
export class MemoryInboxQueue implements InboxQueue {
  readonly items: MessageIn[] = [];
  constructor(private readonly maxItems = 10_000) {}
  async push(event: MessageIn): Promise<void> {
    this.items.unshift(event);
    if (this.items.length > this.maxItems) this.items.pop();
  }
  async length(): Promise<number> {
    return this.items.length;
  }
}

export class RedisInboxQueue implements InboxQueue {
  constructor(
    private readonly redis: Redis,
    readonly key: string = INBOX_QUEUE_KEY,
  ) {}
  async push(event: MessageIn): Promise<void> {
    await this.redis.lpush(this.key, JSON.stringify(event));
  }
  length(): Promise<number> {
    return this.redis.llen(this.key);
  }
}

/** Port: last WhatsApp QR codes from `qr` webhooks, kept at least WA_QR_TTL_SECONDS (seed keys in Redis). */
export interface QrCache {
  put(tenant: number, qrId: string, svg: string): Promise<void>;
  /** The given QR, or the tenant's latest one. */
  get(tenant: number, qrId?: string): Promise<{ qrId: string; svg: string } | undefined>;
}

export class MemoryQrCache implements QrCache {
  private readonly svgs = new Map<string, { svg: string; expires: number }>();
  private readonly last = new Map<number, { qrId: string; expires: number }>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = WA_QR_TTL_SECONDS * 1000,
  ) {}
  async put(tenant: number, qrId: string, svg: string): Promise<void> {
    const expires = this.now() + this.ttlMs;
    for (const [k, v] of this.svgs) if (v.expires <= this.now()) this.svgs.delete(k);
    this.svgs.set(waQrCacheKeys(tenant, qrId).svg, { svg, expires });
    this.last.set(tenant, { qrId, expires });
  }
  async get(tenant: number, qrId?: string): Promise<{ qrId: string; svg: string } | undefined> {
    const now = this.now();
    let id = qrId;
    if (id === undefined) {
      const last = this.last.get(tenant);
      if (last === undefined || last.expires <= now) return undefined;
      id = last.qrId;
    }
    const hit = this.svgs.get(waQrCacheKeys(tenant, id).svg);
    return hit !== undefined && hit.expires > now ? { qrId: id, svg: hit.svg } : undefined;
  }
}

export class RedisQrCache implements QrCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}
  async put(tenant: number, qrId: string, svg: string): Promise<void> {
    const keys = waQrCacheKeys(tenant, qrId);
    await this.redis
      .multi()
      .set(this.prefix + keys.svg, svg, 'EX', WA_QR_TTL_SECONDS)
      .set(this.prefix + keys.last, qrId, 'EX', WA_QR_TTL_SECONDS)
      .exec();
  }
  async get(tenant: number, qrId?: string): Promise<{ qrId: string; svg: string } | undefined> {
    const id = qrId ?? (await this.redis.get(this.prefix + waQrCacheKeys(tenant, '').last)) ?? undefined;
    if (id === undefined) return undefined;
    const svg = await this.redis.get(this.prefix + waQrCacheKeys(tenant, id).svg);
    return svg === null ? undefined : { qrId: id, svg };
  }
}
