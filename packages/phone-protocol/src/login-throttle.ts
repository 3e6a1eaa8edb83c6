import type { Clock } from './clock.js';

/**
 * Port: failed-login counters in fixed windows. A window starts with the first failure of a key and
 * ends `windowMs` later; `increment` must be atomic so instances sharing the store count together.
 */
export interface LoginAttemptStore {
  /** Failures of `key` in its current window (0 and `resetAt: now` when there is none). */
  get(
    key: string,
    now: number,
  ): Promise<{
    /** Failures counted in the current window; 0 when no window is open. */
    count: number;
    /** When the current window ends, in ms since the epoch (`now` when no window is open). */
    resetAt: number;
  }>;
  /** Counts one failure of `key`, starting a window of `windowMs` if none is open at `now`. */
  increment(key: string, windowMs: number, now: number): Promise<void>;
  /** Forgets `key` (a successful login). */
  delete(key: string): Promise<void>;
}

/** Single-process implementation; expired windows are swept so the map stays bounded by active attackers. */
export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  async get(key: string, now: number): ReturnType<LoginAttemptStore['get']> {
    const entry = this.windows.get(key);
    if (!entry || entry.resetAt <= now) return { count: 0, resetAt: now };
    return { ...entry };
  }

  async increment(key: string, windowMs: number, now: number): Promise<void> {
    const entry = this.windows.get(key);
    if (!entry || entry.resetAt <= now) this.windows.set(key, { count: 1, resetAt: now + windowMs });
    else entry.count += 1;
    if (this.windows.size > 10_000 && now - this.lastSweep >= windowMs) {
      this.lastSweep = now;
      for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
    }
  }

  async delete(key: string): Promise<void> {
    this.windows.delete(key);
  }
}

/** Limits of the login brake (`PhoneProtocolOptions.loginThrottle`). */
export interface LoginThrottleOptions {
  /** Failed logins allowed per username from one IP address within the window (default 5). */
  maxFailuresPerUsername?: number;
  /** Failed logins and QR exchanges allowed per IP address within the window, any username (default 50). */
  maxFailuresPerIp?: number;
  /** Window length in seconds, counted from the first failure (default 900 = 15 min). */
  windowSeconds?: number;
  /** Where the counters live (default in process memory; use a shared store with several instances). */
  store?: LoginAttemptStore;
}

/**
 * Brute-force brake for `/api/token/` and `/api/phone/qr/exchange/`: only failures count, so devices that log
 * in correctly are never throttled; a blocked attempt is refused before any password work is done.
 * The username limit is keyed by username + IP (a remote attacker cannot lock an operator out); the IP limit
 * caps guessing across many usernames.
 */
export class LoginThrottle {
  private readonly store: LoginAttemptStore;
  private readonly perUsername: number;
  private readonly perIp: number;
  private readonly windowMs: number;

  constructor(
    private readonly clock: Clock,
    options: LoginThrottleOptions = {},
  ) {
    this.store = options.store ?? new InMemoryLoginAttemptStore();
    this.perUsername = options.maxFailuresPerUsername ?? 5;
    this.perIp = options.maxFailuresPerIp ?? 50;
    this.windowMs = (options.windowSeconds ?? 900) * 1000;
  }

  private limits(ip: string, username: string | undefined): Array<[string, number]> {
    const limits: Array<[string, number]> = [[`ip:${ip}`, this.perIp]];
    if (username !== undefined) limits.push([`user:${username.toLowerCase()}|ip:${ip}`, this.perUsername]);
    return limits;
  }

  /** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
  async blockedFor(ip: string, username?: string): Promise<number> {
    const now = this.clock.now();
    let wait = 0;
    for (const [key, max] of this.limits(ip, username)) {
      const { count, resetAt } = await this.store.get(key, now);
      if (count >= max) wait = Math.max(wait, resetAt - now, 1);
    }
    return wait;
  }

  async failed(ip: string, username?: string): Promise<void> {
    const now = this.clock.now();
    for (const [key] of this.limits(ip, username)) await this.store.increment(key, this.windowMs, now);
  }

  /** A successful login clears that username's failures from this IP (the IP budget keeps running). */
  async succeeded(ip: string, username: string): Promise<void> {
    await this.store.delete(this.limits(ip, username)[1]![0]);
  }
}
