/**
 * Every `code` a {@link ConfigCacheError} can carry: `load_timeout` (retryable), `closed`, `missing_peer` (an optional
 * peer such as `pg` is not installed), `refresh_raced` (a full refresh kept racing invalidations; retryable).
 */
export type ConfigCacheErrorCode = 'load_timeout' | 'closed' | 'missing_peer' | 'refresh_raced';

/** Base class of every error thrown by the cache; `code` is stable for programmatic handling. */
export class ConfigCacheError extends Error {
  /** Stable, snake_case; branch on it (with {@link isConfigCacheError}), not on the message. */
  readonly code: ConfigCacheErrorCode;
  /** Whether the same call may succeed later (a timeout, a raced refresh). */
  readonly isRetryable: boolean;

  constructor(code: ConfigCacheErrorCode, message: string, options?: { cause?: unknown; isRetryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = options?.isRetryable ?? false;
  }
}

/** Whether `error` was thrown by this package (any {@link ConfigCacheError}); then branch on its `code`. */
export function isConfigCacheError(error: unknown): error is ConfigCacheError {
  return error instanceof ConfigCacheError;
}

/** The loader did not settle within `loadTimeoutMs`; the key is released so the next read retries. */
export class ConfigCacheLoadTimeoutError extends ConfigCacheError {
  /** The key whose load timed out; `undefined` for a full refresh. */
  readonly key: string | undefined;
  /** The timeout that expired. */
  readonly timeoutMs: number;

  constructor(key: string | undefined, timeoutMs: number) {
    super(
      'load_timeout',
      `${key === undefined ? 'Full refresh' : `Load of key "${key}"`} timed out after ${timeoutMs} ms`,
      { isRetryable: true },
    );
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** The cache was closed; pending and later reads reject with this. */
export class ConfigCacheClosedError extends ConfigCacheError {
  constructor(name: string) {
    super('closed', `Config cache "${name}" is closed`);
  }
}

/** An optional peer the chosen feature needs is not installed; the message names the install command. */
export class ConfigCacheMissingPeerError extends ConfigCacheError {
  /** The package to install (`pg`). */
  readonly packageName: string;

  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      'missing_peer',
      `${feature} needs the "${packageName}" package, which is not installed: install it ` +
        `(npm install ${packageName} / pnpm add ${packageName}) or pass your own client factory`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/** Whether `error` says that `packageName` itself (not one of its own imports) could not be found. */
export function isMissingPackage(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && new RegExp(`['"]${packageName}['"]`).test(message);
}
