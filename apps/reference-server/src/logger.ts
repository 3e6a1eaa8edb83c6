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

/** Drops `token` and similar query parameters from a URL before it is logged. */
export function redactUrl(url: string): string {
  // `k` is the messenger hub's PUBLIC_KEY / tenant key on /pub/* routes; `secret` is the RetailCRM callback secret.
  return url.replace(/([?&](?:token|api_key|apiKey|k|secret)=)[^&#]*/gi, '$1[redacted]');
}
