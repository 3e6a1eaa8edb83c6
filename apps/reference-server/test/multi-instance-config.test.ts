import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { testEnv } from './helpers.js';

describe('scale-out and delivery environment', () => {
  it('has production defaults', () => {
    const c = loadConfig(testEnv);
    expect(c.delivery).toEqual({
      redisPrefix: 'callbridge',
      attempts: 5,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      timeoutMs: 2500,
      breakerFailures: 5,
      breakerHalfOpenMs: 30_000,
      // RetailCRM's telephony limit per account; jobs of different enterprises run side by side.
      ratePerSecond: 40,
      // History uploads of one enterprise share a request for up to this long.
      uploadWindowMs: 150,
      concurrency: 256,
    });
    expect(c.trustProxy).toBe('loopback');
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...testEnv,
      REDIS_PREFIX: 'cb-prod',
      QUEUE_ATTEMPTS: '8',
      QUEUE_RETRY_BASE_MS: '500',
      QUEUE_RETRY_MAX_MS: '30000',
      QUEUE_LOCK_DURATION_MS: '10000',
      QUEUE_STALLED_INTERVAL_MS: '5000',
      DELIVERY_TIMEOUT_MS: '4000',
      BREAKER_FAILURES: '3',
      BREAKER_HALF_OPEN_MS: '60000',
      DELIVERY_RATE_PER_SECOND: '10',
      QUEUE_CONCURRENCY: '8',
      DELIVERY_UPLOAD_WINDOW_MS: '40',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    });
    expect(c.delivery).toMatchObject({
      redisPrefix: 'cb-prod',
      attempts: 8,
      lockDurationMs: 10_000,
      timeoutMs: 4000,
      ratePerSecond: 10,
      concurrency: 8,
      uploadWindowMs: 40,
    });
    expect(c.trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
    expect(loadConfig({ ...testEnv, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...testEnv, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('names every bad value', () => {
    try {
      loadConfig({ ...testEnv, REDIS_PREFIX: 'a:b', QUEUE_ATTEMPTS: '0', QUEUE_LOCK_DURATION_MS: 'soon' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      for (const name of ['REDIS_PREFIX', 'QUEUE_ATTEMPTS', 'QUEUE_LOCK_DURATION_MS']) {
        expect((err as ConfigError).message).toContain(`${name}:`);
      }
    }
  });
});
