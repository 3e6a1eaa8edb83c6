import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeCrmError } from '../testing/fake-telephony-api.js';
import { createManualClock } from '../testing/manual-clock.js';
import { createDeliveryPolicies } from './policies.js';
import { createKeyedRateLimiter } from './rate-limiter.js';

const target = { enterpriseNumber: '0367', crm: 'retailcrm' };
const other = { enterpriseNumber: '0368', crm: 'retailcrm' };

afterEach(() => {
  vi.useRealTimers();
});

describe('delivery policies', () => {
  it('retries retryable errors with jittered exponential backoff, then gives up', async () => {
    const sleeps: number[] = [];
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const policies = createDeliveryPolicies({
      retries: 2,
      backoff: { initialMs: 8, maxMs: 12 },
      random: () => 1,
      rateLimit: false,
    });
    let calls = 0;
    await expect(
      policies.execute(target, async () => {
        calls++;
        throw new FakeCrmError(503);
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(3);
    for (const call of setTimeoutSpy.mock.calls) if (call[1] === 8 || call[1] === 12) sleeps.push(call[1]);
    expect(sleeps).toEqual([8, 12]); // 8·2^0, then min(12, 8·2^1); random()=1 => full delay
    setTimeoutSpy.mockRestore();
  });

  it('a caller that retries durably itself runs one attempt, yet counts against the same breaker', async () => {
    const policies = createDeliveryPolicies({ retries: 2, breaker: { consecutiveFailures: 2 }, rateLimit: false });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new FakeCrmError(500);
    };
    await expect(policies.execute(target, failing, undefined, { retries: 0 })).rejects.toMatchObject({ status: 500 });
    expect(calls).toBe(1);
    expect(policies.breakerState(target)).toBe('closed');
    await expect(policies.execute(target, failing, undefined, { retries: 0 })).rejects.toMatchObject({ status: 500 });
    expect(policies.breakerState(target)).toBe('open');
    // The default retry budget is untouched by the override: an open breaker is not retried, so one rejection.
    await expect(policies.execute(target, failing)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(2);
  });

  it('a rate-limit answer (503/429: not processed) is retried but never opens the breaker', async () => {
    const policies = createDeliveryPolicies({ retries: 0, breaker: { consecutiveFailures: 2 }, rateLimit: false });
    for (const status of [503, 429, 503, 429, 503]) {
      await expect(
        policies.execute(target, async () => {
          throw new FakeCrmError(status);
        }),
      ).rejects.toMatchObject({ code: 'rate_limited' });
    }
    expect(policies.breakerState(target)).toBe('closed');
    await expect(policies.execute(target, async () => 'delivered')).resolves.toBe('delivered');
  });

  it('does not retry a non-retryable error and does not count it against the breaker', async () => {
    const policies = createDeliveryPolicies({ retries: 2, breaker: { consecutiveFailures: 2 }, rateLimit: false });
    let calls = 0;
    for (let i = 0; i < 5; i++) {
      await expect(
        policies.execute(target, async () => {
          calls++;
          throw new FakeCrmError(400);
        }),
      ).rejects.toMatchObject({ status: 400 });
    }
    expect(calls).toBe(5);
    expect(policies.breakerState(target)).toBe('closed');
  });

  it('times out a hanging call and reports every attempt to the observer', async () => {
    const policies = createDeliveryPolicies({ timeoutMs: 20, retries: 1, backoff: { initialMs: 1 }, rateLimit: false });
    const outcomes: string[] = [];
    await expect(
      policies.execute(
        target,
        () => new Promise((resolve) => setTimeout(resolve, 200)),
        (o) => {
          outcomes.push(o.status === 'error' ? (o.error as Error).constructor.name : 'success');
        },
      ),
    ).rejects.toBeInstanceOf(TaskCancelledError);
    expect(outcomes).toEqual(['TaskCancelledError', 'TaskCancelledError']);
  });

  it('breaker opens after consecutive failures at low volume, half-opens and closes on success', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const policies = createDeliveryPolicies({
      retries: 0,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 30_000 },
      rateLimit: false,
    });
    const fail = async () => {
      throw new FakeCrmError(500);
    };
    for (let i = 0; i < 3; i++) await expect(policies.execute(target, fail)).rejects.toBeInstanceOf(FakeCrmError);
    expect(policies.breakerState(target)).toBe('open');
    let reached = 0;
    await expect(
      policies.execute(target, async () => {
        reached++;
        return 'ok';
      }),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(reached).toBe(0);
    // Another enterprise is not affected.
    await expect(policies.execute(other, async () => 'ok')).resolves.toBe('ok');

    vi.setSystemTime(1_000_000 + 30_001);
    // Half-open: one trial call goes through; a failure opens the breaker again.
    await expect(policies.execute(target, fail)).rejects.toBeInstanceOf(FakeCrmError);
    expect(policies.breakerState(target)).toBe('open');
    vi.setSystemTime(1_000_000 + 90_000);
    await expect(policies.execute(target, async () => 'ok')).resolves.toBe('ok');
    expect(policies.breakerState(target)).toBe('closed');
  });

  it('bulkhead limits concurrent calls per enterprise', async () => {
    const policies = createDeliveryPolicies({ bulkhead: { perEnterprise: 2, queue: 10 }, rateLimit: false });
    let active = 0;
    let peak = 0;
    const work = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
    };
    await Promise.all([
      ...Array.from({ length: 6 }, () => policies.execute(target, work)),
      policies.execute(other, work),
    ]);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThanOrEqual(2);
  });
});

describe('rate limit inside the policies', () => {
  it('spaces calls of one enterprise and leaves other enterprises alone', async () => {
    const waits: number[] = [];
    const policies = createDeliveryPolicies({
      rateLimit: { perSecond: 10, burst: 1 },
      clock: { now: () => 0 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    for (let i = 0; i < 3; i++) await policies.execute(target, async () => 'ok');
    await policies.execute(other, async () => 'ok');
    expect(waits).toEqual([100, 200]);
  });
});

describe('keyed rate limiter', () => {
  it('paces by default (burst 1): no second call before one interval', async () => {
    const clock = createManualClock(0);
    const waits: number[] = [];
    const limiter = createKeyedRateLimiter({ perSecond: 40, clock, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 4; i++) await limiter.acquire('a');
    expect(waits).toEqual([25, 50, 75]);
  });

  it('lets a burst through, then spaces calls at the sustained rate, per key', async () => {
    const clock = createManualClock(0);
    const waits: number[] = [];
    const limiter = createKeyedRateLimiter({
      perSecond: 10,
      burst: 2,
      clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    for (let i = 0; i < 4; i++) await limiter.acquire('a');
    await limiter.acquire('b');
    expect(waits).toEqual([100, 200]);
    clock.set(10_000); // long idle: the bucket is full again
    await limiter.acquire('a');
    await limiter.acquire('a');
    expect(waits).toEqual([100, 200]);
  });
});
