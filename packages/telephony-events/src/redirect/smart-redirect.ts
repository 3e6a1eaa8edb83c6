import { DeadlineExceeded, withDeadline } from '../deadline.js';
import { describeError } from '../errors.js';
import { isInternalNumber } from '../events/mapping.js';
import {
  type Clock,
  type IntegrationLogSink,
  type Logger,
  type RetailCrmApiFactory,
  type RetailCrmConfigReader,
  readKey,
  silentLogger,
  systemClock,
} from '../ports.js';
import { redact } from '../redact.js';
import { createApiCache } from '../retailcrm/api-cache.js';
import type { ChannelRedirector } from './channel-redirector.js';

/** What {@link createSmartRedirect} needs; only `config` and `createApi` are required. */
export interface SmartRedirectOptions {
  /** Reads the enterprise's RetailCRM config (credentials, `user_extensions`, `events.smart_redirect`). */
  config: RetailCrmConfigReader;
  /** Builds the RetailCRM API of an enterprise (built once per config and reused). */
  createApi: RetailCrmApiFactory;
  /** Hard budget of one lookup, config read included (default 1500 ms). */
  budgetMs?: number;
  /** How long a found extension is reused per enterprise+phone (default 60 s). */
  cacheTtlMs?: number;
  /** How long "no manager / no extension" is reused (default 15 s). */
  negativeCacheTtlMs?: number;
  /** Cached lookups kept in all, oldest dropped first (default 10 000). */
  maxCacheEntries?: number;
  /** Needed only for {@link SmartRedirect.redirectCall}. */
  redirector?: ChannelRedirector;
  /** Dialplan context for redirects (default `from-internal`). */
  context?: string;
  /** A redirect not confirmed by then is reported as `redirect_failed` (default 3000 ms): the caller never waits on it. */
  redirectTimeoutMs?: number;
  /** Receives one row per `responsibleManager` call (never awaited by the lookup). */
  integrationLog?: IntegrationLogSink;
  /** Time source of cache expiry and logged durations (default {@link systemClock}). */
  clock?: Clock;
  /** Receives warnings and errors (default: silent). */
  logger?: Logger;
}

/**
 * Why no extension was found: no RetailCRM config, integration `enabled: false`, the flag off, no responsible
 * manager, a manager without an extension, the budget ran out, or any other error.
 */
export type ResolveFailure =
  | 'not_configured'
  | 'disabled'
  /** The enterprise's `events.smart_redirect` is off (read per call, before the cache). */
  | 'smart_redirect_disabled'
  | 'no_manager'
  | 'no_extension'
  | 'timeout'
  | 'error';

/** The answer of {@link SmartRedirect.resolveResponsibleExtension}. */
export type ResolveResult =
  | {
      /** The responsible manager's extension to ring. */
      extension: string;
      /** That manager's RetailCRM user id. */
      managerId: number;
      /** `crm`: asked RetailCRM now; `cache`: a recent answer reused. */
      source: 'crm' | 'cache';
    }
  | {
      /** No extension: keep the call on its default route. */
      extension: undefined;
      /** Why not. */
      reason: ResolveFailure;
      /** `crm`: RetailCRM answered so; `cache`: a recent such answer; `none`: RetailCRM was not (or not fully) asked. */
      source: 'crm' | 'cache' | 'none';
    };

/** The answer of {@link SmartRedirect.redirectCall}. */
export type RedirectOutcome =
  | {
      /** The channel was sent to the manager. */
      redirected: true;
      /** The extension it was sent to. */
      extension: string;
    }
  | {
      /** The call stays on its default route. */
      redirected: false;
      /** Why: no extension found, the AMI redirect failed or timed out, or no redirector was configured. */
      reason: ResolveFailure | 'redirect_failed' | 'no_redirector';
    };

/** Counters of one smart redirect since it was created. */
export interface SmartRedirectStats {
  /** Integration-log records that could not be written (each one also logged with `logger.error`). */
  integrationLogErrors: number;
}

/** Routes an incoming call to the customer's responsible manager in RetailCRM, never delaying it beyond a budget. */
export interface SmartRedirect {
  /** Responsible manager's extension for a caller, within the time budget. Never throws: no extension = default route. */
  resolveResponsibleExtension(params: { enterprise: string; phone: string }): Promise<ResolveResult>;
  /** Resolves and redirects `channel` to the extension; on any failure leaves the call on its default route. */
  redirectCall(params: {
    enterprise: string;
    phone: string;
    channel: string;
    context?: string;
    priority?: number;
  }): Promise<RedirectOutcome>;
  /** A copy of the counters. */
  stats(): SmartRedirectStats;
}

/** Builds the smart redirect: cached, budgeted `responsibleManager` lookups and, with a redirector, the AMI move. */
export function createSmartRedirect(options: SmartRedirectOptions): SmartRedirect {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const budgetMs = options.budgetMs ?? 1500;
  const redirectTimeoutMs = options.redirectTimeoutMs ?? 3000;
  const ttl = options.cacheTtlMs ?? 60_000;
  const negativeTtl = options.negativeCacheTtlMs ?? 15_000;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const cache = new Map<string, { result: ResolveResult; expiresAt: number }>();
  const inFlight = new Map<string, Promise<ResolveResult>>();
  const apiFor = createApiCache(options.createApi);
  const stats: SmartRedirectStats = { integrationLogErrors: 0 };

  const remember = (key: string, result: ResolveResult) => {
    const cacheable =
      result.extension !== undefined || result.reason === 'no_manager' || result.reason === 'no_extension';
    if (!cacheable) return;
    cache.delete(key);
    cache.set(key, { result, expiresAt: clock.now() + (result.extension ? ttl : negativeTtl) });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  };

  const lookup = async (enterprise: string, phone: string): Promise<ResolveResult> => {
    const config = await readKey(options.config, enterprise);
    if (!config) return { extension: undefined, reason: 'not_configured', source: 'none' };
    if (config.enabled === false) return { extension: undefined, reason: 'disabled', source: 'none' };
    const api = apiFor(enterprise, config);
    const request = { phone, details: true };
    const startedAt = clock.now();
    // Never awaited by the caller (the budget is for the redirect), never allowed to throw into the lookup:
    // a failed write is counted and logged instead.
    const log = async (status: 'success' | 'error', responseData: unknown, errorMessage?: string) => {
      try {
        await options.integrationLog?.write({
          enterpriseNumber: enterprise,
          integrationType: 'retailcrm',
          eventType: 'smart_redirect',
          operation: 'telephony.responsibleManager',
          requestData: request,
          responseData: redact(responseData, [config.api_key]),
          status,
          ...(errorMessage ? { errorMessage: redact(errorMessage, [config.api_key]) } : {}),
          durationMs: clock.now() - startedAt,
          createdAt: new Date(clock.now()),
        });
      } catch (error) {
        stats.integrationLogErrors++;
        logger.error(
          { enterprise, err: redact(describeError(error), [config.api_key]) },
          'smart redirect: integration log write failed',
        );
      }
    };
    let response: Awaited<ReturnType<typeof api.responsibleManager>>;
    try {
      response = await api.responsibleManager(request);
    } catch (error) {
      const info = describeError(error);
      void log('error', null, `${info.code ?? info.name}: ${info.message}`);
      throw error;
    }
    void log('success', response);
    const manager = response.manager;
    if (!manager) return { extension: undefined, reason: 'no_manager', source: 'crm' };
    const code = manager.code?.trim();
    const mapped = config.user_extensions?.[String(manager.id)]?.trim();
    const extension = code && isInternalNumber(code) ? code : mapped || undefined;
    if (!extension) return { extension: undefined, reason: 'no_extension', source: 'crm' };
    return { extension, managerId: manager.id, source: 'crm' };
  };

  const resolve: SmartRedirect['resolveResponsibleExtension'] = async (params) => {
    // Callers may be plain JS (a dialplan AGI script): bad input is the default route, never a throw.
    const enterprise: unknown = params?.enterprise;
    const phone: unknown = params?.phone;
    const digits = typeof phone === 'string' || typeof phone === 'number' ? String(phone).replace(/\D/g, '') : '';
    if (typeof enterprise !== 'string' || enterprise === '' || digits === '') {
      logger.warn(
        { enterprise: String(enterprise) },
        'smart redirect called without enterprise or phone; default route',
      );
      return { extension: undefined, reason: 'error', source: 'none' };
    }
    const key = `${enterprise}|${digits}`;
    const gatedLookup = async (): Promise<ResolveResult> => {
      // The flag is read on every call (a config cache answers from memory), so switching it off acts at once,
      // cached answers included.
      const flags = await readKey(options.config, enterprise);
      if (flags?.events?.smart_redirect === false) {
        return { extension: undefined, reason: 'smart_redirect_disabled', source: 'none' };
      }
      const cached = cache.get(key);
      if (cached && cached.expiresAt > clock.now()) return { ...cached.result, source: 'cache' } as ResolveResult;
      let running = inFlight.get(key);
      if (!running) {
        running = lookup(enterprise, String(phone)).then((result) => {
          remember(key, result);
          return result;
        });
        inFlight.set(key, running);
        const clear = () => inFlight.delete(key);
        running.then(clear, clear);
      }
      return running;
    };
    try {
      return await withDeadline(gatedLookup(), budgetMs);
    } catch (error) {
      if (error instanceof DeadlineExceeded) {
        logger.warn({ enterprise, budgetMs }, 'smart redirect lookup exceeded its budget; default route');
        return { extension: undefined, reason: 'timeout', source: 'none' };
      }
      logger.warn({ enterprise, err: describeError(error) }, 'smart redirect lookup failed; default route');
      return { extension: undefined, reason: 'error', source: 'none' };
    }
  };

  return {
    resolveResponsibleExtension: resolve,
    stats: () => ({ ...stats }),
    async redirectCall(params) {
      const result = await resolve(params);
      if (result.extension === undefined) return { redirected: false, reason: result.reason };
      if (!options.redirector) return { redirected: false, reason: 'no_redirector' };
      try {
        await withDeadline(
          options.redirector.redirect({
            channel: params.channel,
            exten: result.extension,
            context: params.context ?? options.context ?? 'from-internal',
            priority: params.priority ?? 1,
          }),
          redirectTimeoutMs,
        );
        return { redirected: true, extension: result.extension };
      } catch (error) {
        logger.warn({ enterprise: params.enterprise, err: describeError(error) }, 'redirect failed; default route');
        return { redirected: false, reason: 'redirect_failed' };
      }
    },
  };
}
