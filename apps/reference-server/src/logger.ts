import pino, { type Logger } from 'pino';

/** Paths pino replaces with `[redacted]` wherever they appear in a log object. */
export const REDACT_PATHS = [
  'api_key',
  'apiKey',
  'token',
  'password',
  'secret',
  'authorization',
  '*.api_key',
  '*.apiKey',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-admin-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-admin-token"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'callbridge-reference-server' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** Query parameter names whose value is a credential (`k`: PUBLIC_KEY / tenant key; `secret`: callback secret). */
const SECRET_QUERY_NAMES = /^(?:token|api_key|apikey|k|secret|password|access|refresh|provider_token|qr_token)$/i;

/** Drops `token` and similar query parameters from a URL before it is logged. */
export function redactUrl(url: string): string {
  // `k` is the messenger hub's PUBLIC_KEY / tenant key on /pub/* routes; `secret` is the RetailCRM callback secret.
  // The name may be percent-encoded or carry brackets (`secret[]=`, `secret%5B0%5D=`, `api%5Fkey=`): decode the
  // name only, then drop the value whatever the spelling.
  return url.replace(/([?&])([^=&#]*)(=?)([^&#]*)/g, (whole, sep: string, name: string, eq: string) => {
    let plain = name;
    try {
      plain = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // malformed escape: judge the raw name
    }
    const base = plain.replace(/\[.*$/, '').trim();
    return eq && SECRET_QUERY_NAMES.test(base) ? `${sep}${name}=[redacted]` : whole;
  });
}
