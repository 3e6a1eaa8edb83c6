import { describe, expect, it } from 'vitest';

describe('package exports', () => {
  it('resolves the main entry and the ./express subpath by package name', async () => {
    const main = await import('@callbridge/phone-protocol');
    const sub = await import('@callbridge/phone-protocol/express');
    expect(typeof main.createPhoneProtocol).toBe('function');
    expect(typeof main.PhoneClient).toBe('function');
    expect(typeof sub.createPhoneRouter).toBe('function');
    expect(main.phoneRoutes.map((r) => r.path)).toContain('/api/phone/calls/pull/');
    // The framework-free entry must not drag Express in.
    expect('createPhoneRouter' in main).toBe(false);
  });

  it('keeps test clocks, suites, the CLI and bus internals off the root entry', async () => {
    const main = await import('@callbridge/phone-protocol');
    const testing = await import('@callbridge/phone-protocol/testing');
    const wake = await import('@callbridge/phone-protocol/wake');
    for (const internal of ['ManualClock', 'runCli', 'WakeRegistry', 'parseRetryAfter', 'writeResponse', 'sameOwner']) {
      expect(internal in main).toBe(false);
    }
    expect(typeof testing.createManualClock).toBe('function');
    expect(typeof testing.registerCommandBusSuite).toBe('function');
    expect(typeof wake.WakeRegistry).toBe('function');
  });
});
