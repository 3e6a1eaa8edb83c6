import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

describe('logger', () => {
  it('redacts secrets wherever they appear', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        api_key: 'AKEY-123',
        config: { api_key: 'AKEY-456', domain: 'd' },
        req: { headers: { authorization: 'Bearer T' } },
      },
      'x',
    );
    const out = lines.join('');
    expect(out).not.toContain('AKEY-123');
    expect(out).not.toContain('AKEY-456');
    expect(out).not.toContain('Bearer T');
    expect(out).toContain('[redacted]');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 30, msg: 'x', config: { domain: 'd' } });
  });

  it('strips tokens from URLs', () => {
    expect(redactUrl('/retailcrm-admin/?enterprise_number=1&token=abc.def&x=1')).toBe(
      '/retailcrm-admin/?enterprise_number=1&token=[redacted]&x=1',
    );
    expect(redactUrl('/retailcrm/make-call?secret=AbC-_9&clientId=1&xsecret=2')).toBe(
      '/retailcrm/make-call?secret=[redacted]&clientId=1&xsecret=2',
    );
    expect(redactUrl('/retailcrm/status?clientId=1&Secret=s#f')).toBe(
      '/retailcrm/status?clientId=1&Secret=[redacted]#f',
    );
  });
});
