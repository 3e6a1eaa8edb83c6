/** Base class of every error thrown by the cache; `code` is stable for programmatic handling. */
export class ConfigCacheError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; isRetryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = options?.isRetryable ?? false;
  }
}

/** The loader did not settle within `loadTimeoutMs`; the key is released so the next read retries. */
export class ConfigCacheLoadTimeoutError extends ConfigCacheError {
  readonly key: string | undefined;
  readonly timeoutMs: number;

  constructor(key: string | undefined, timeoutMs: number) {
    super(
      'CONFIG_CACHE_LOAD_TIMEOUT',
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
    super('CONFIG_CACHE_CLOSED', `Config cache "${name}" is closed`);
  }
}

/** An optional peer the chosen feature needs is not installed; the message names the install command. */
export class ConfigCacheMissingPeerError extends ConfigCacheError {
  readonly packageName: string;

  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      'CONFIG_CACHE_MISSING_PEER',
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
