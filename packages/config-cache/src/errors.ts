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
