import { isIP } from 'node:net';
import { HttpError } from '../errors.js';

/** RetailCRM account hosts (RetailCRM and its international brand Simla); `RETAILCRM_ALLOWED_HOSTS` replaces it. */
export const DEFAULT_RETAILCRM_HOSTS = [
  '*.retailcrm.ru',
  '*.retailcrm.pro',
  '*.retailcrm.es',
  '*.simla.com',
  '*.simla.io',
];

/** Which RetailCRM origins the server may call on an operator's (or an account link's) behalf. */
export interface HostPolicy {
  /** Throws 422 `domain_not_allowed` unless `origin` is an allowed RetailCRM account. */
  check(origin: string): void;
}

export interface HostPolicyOptions {
  /** Host globs: `*.retailcrm.ru` matches one or more labels before `.retailcrm.ru`; no `*` = exact host. */
  allowedHosts: readonly string[];
  /** Development only: also `http(s)://localhost|127.x|[::1]` on any port (a local fake RetailCRM). */
  allowLoopback: boolean;
}

const isLoopback = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
};

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .trim()
    .toLowerCase()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[a-z0-9-]+(?:\\.[a-z0-9-]+)*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Only `https` on the default port, to a host matching `allowedHosts` (never an IP literal): "test connection"
 * and the other admin calls cannot be aimed at internal services. Loopback only with the development flag.
 */
export function createHostPolicy(options: HostPolicyOptions): HostPolicy {
  const patterns = options.allowedHosts.filter((g) => g.trim() !== '').map(globToRegExp);
  const refuse = () =>
    new HttpError(
      422,
      'domain_not_allowed',
      `domain must be an https RetailCRM account (${options.allowedHosts.join(', ')}); see RETAILCRM_ALLOWED_HOSTS`,
    );
  return {
    check(origin) {
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        throw refuse();
      }
      if (options.allowLoopback && isLoopback(url.hostname) && ['http:', 'https:'].includes(url.protocol)) return;
      if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') throw refuse();
      const host = url.hostname.toLowerCase();
      if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) throw refuse();
      if (!patterns.some((p) => p.test(host))) throw refuse();
    },
  };
}
