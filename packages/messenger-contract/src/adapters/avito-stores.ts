/** Avito OAuth credentials of one tenant. Written as one record so access and refresh token never diverge. */
export interface AvitoTokens {
  /** Bearer token for the Messenger API. */
  accessToken: string;
  /** Present for authorization_code grants; rotated on every refresh. */
  refreshToken?: string;
  /** Expiry of the access token, ms since the epoch. */
  expiresAt: number;
  /** Avito account id (`user_id` in webhooks and send paths). */
  userId?: number;
}

/** Port: per-tenant token storage. `set` must replace the whole record atomically. */
export interface AvitoTokenStore {
  /** The tenant's tokens, or undefined when the tenant has not connected Avito. */
  get(tenant: number): Promise<AvitoTokens | undefined>;
  /** Replaces the tenant's whole token record. */
  set(tenant: number, tokens: AvitoTokens): Promise<void>;
}

/** In-process AvitoTokenStore (single instance; tokens are lost on restart). Stores and returns copies. */
export class InMemoryAvitoTokenStore implements AvitoTokenStore {
  private readonly tokens = new Map<number, AvitoTokens>();
  async get(tenant: number): Promise<AvitoTokens | undefined> {
    const value = this.tokens.get(tenant);
    return value === undefined ? undefined : { ...value };
  }
  async set(tenant: number, tokens: AvitoTokens): Promise<void> {
    this.tokens.set(tenant, { ...tokens });
  }
}

/** Port: remembers the chat of an Avito user (author_id -> chat_id) per tenant, filled from webhooks. */
export interface AvitoChatCache {
  /** The chat id last seen for the Avito user, or undefined. */
  get(tenant: number, userId: string): Promise<string | undefined>;
  /** Remembers the user's chat id (overwrites an older one). */
  set(tenant: number, userId: string, chatId: string): Promise<void>;
}

/** Bounded in-memory AvitoChatCache (least recently written entries are dropped first). */
export class InMemoryAvitoChatCache implements AvitoChatCache {
  private readonly chats = new Map<string, string>();
  constructor(private readonly maxEntries = 50_000) {}
  async get(tenant: number, userId: string): Promise<string | undefined> {
    return this.chats.get(`${tenant}:${userId}`);
  }
  async set(tenant: number, userId: string, chatId: string): Promise<void> {
    const key = `${tenant}:${userId}`;
    this.chats.delete(key);
    this.chats.set(key, chatId);
    if (this.chats.size > this.maxEntries) {
      const oldest = this.chats.keys().next();
      if (!oldest.done) this.chats.delete(oldest.value);
    }
  }
}
