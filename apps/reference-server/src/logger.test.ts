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

  it('strips credentials whatever the spelling of the name: brackets, percent-encoding, repeats', () => {
    expect(redactUrl('/retailcrm/make-call?secret[]=s1&secret[]=s2&clientId=1')).toBe(
      '/retailcrm/make-call?secret[]=[redacted]&secret[]=[redacted]&clientId=1',
    );
    expect(redactUrl('/x?secret%5B0%5D=s1&api%5Fkey=k1&%73ecret=s3&k[a]=v&token')).toBe(
      '/x?secret%5B0%5D=[redacted]&api%5Fkey=[redacted]&%73ecret=[redacted]&k[a]=[redacted]&token',
    );
    expect(redactUrl('/x?%E0%A4%A=1&secret=%zz')).toBe('/x?%E0%A4%A=1&secret=[redacted]');
  });
});
