import { describe, expect, it } from 'vitest';
import { createRetailCrmClient, RetailCrmRateLimitError } from '../src/index.js';
import { createManualClock, type RecordedRequest } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

/** Largest number of requests that arrived within any half-open window [t, t + windowMs). */
function maxInWindow(requests: RecordedRequest[], windowMs: number): number {
  const times = requests.map((request) => request.at).sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('client-side rate limiter against the fake', () => {
  it('200 concurrent calls never exceed 10 rps in any sliding second (measured at the fake)', async () => {
    const clock = createManualClock(1_000_000);
    const { client, fake } = env.start(
      { users: [{ id: 1 }], clock, rateLimit: { perSecond: 10 } },
      { clock, rateLimit: { perSecond: 10 }, timeoutMs: 60_000 },
    );
    const all = Promise.all(Array.from({ length: 200 }, () => client.users.get(1)));
    const results = await clock.run(all);
    expect(results).toHaveLength(200);
    expect(fake.state.requests).toHaveLength(200);
    expect(fake.state.requests.every((request) => request.status === 200)).toBe(true);
    expect(maxInWindow(fake.state.requests, 1000)).toBe(10);
    // 200 requests at 10 per second need 19 full windows after the first burst.
    const times = fake.state.requests.map((request) => request.at);
    expect(Math.max(...times) - Math.min(...times)).toBe(19_000);
  });

  it('holds with the real system clock too (short window, timestamps taken when each request is sent)', async () => {
    const { fake } = env.start({ users: [{ id: 1 }] });
    const sent: number[] = [];
    const timed = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      rateLimit: { perSecond: 5, windowMs: 100 },
      fetch: (input, init) => {
        sent.push(Date.now());
        return fetch(input, init);
      },
    });
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, () => timed.users.get(1)));
    expect(sent).toHaveLength(30);
    // Stamps are taken right after the limiter's own send stamp; 2 ms of slack absorbs a millisecond tick.
    const stamps = sent.map((at) => ({ at }) as RecordedRequest);
    expect(maxInWindow(stamps, 98)).toBeLessThanOrEqual(5);
    expect(maxInWindow(stamps, 200)).toBeGreaterThan(5);
    // 30 requests at 5 per 100 ms: at least 5 full windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('clients built per operation share the budget of their API key; other keys have their own', async () => {
    const { fake } = env.start({ users: [{ id: 1 }] });
    const sent: { key: string; at: number }[] = [];
    const make = (apiKey: string) =>
      createRetailCrmClient({
        url: fake.url,
        apiKey,
        retry: false,
        rateLimit: { perSecond: 4, windowMs: 150 },
        fetch: (input, init) => {
          sent.push({ key: apiKey, at: Date.now() });
          return fetch(input, init);
        },
      });
    // 12 one-shot clients per key, as a server that builds a client per request would do.
    const calls = Array.from({ length: 12 }, () => [
      make(fake.apiKey).credentials(),
      make('other-key')
        .credentials()
        .catch(() => undefined),
    ]).flat();
    await Promise.all(calls);
    const stamps = (key: string) => sent.filter((s) => s.key === key).map((s) => ({ at: s.at }) as RecordedRequest);
    expect(maxInWindow(stamps(fake.apiKey), 148)).toBeLessThanOrEqual(4);
    expect(maxInWindow(stamps('other-key'), 148)).toBeLessThanOrEqual(4);
    // The two keys do not wait for each other: both first bursts go out together.
    expect(maxInWindow([...stamps(fake.apiKey), ...stamps('other-key')], 148)).toBeGreaterThan(4);
  });

  it('keeps /telephony/* on its own 40 rps budget', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { clock, rateLimit: { perSecond: 10, telephonyPerSecond: 40 } },
      { clock, timeoutMs: 60_000 },
    );
    const calls = Array.from({ length: 120 }, () => client.telephony.responsibleManager({ phone: '+79990000000' }));
    const others = Array.from({ length: 20 }, () => client.credentials());
    await clock.run(Promise.all([...calls, ...others]));
    expect(maxInWindow(fake.requestsTo(/^\/telephony\//), 1000)).toBe(40);
    expect(maxInWindow(fake.requestsTo('/credentials'), 1000)).toBe(10);
    expect(fake.state.requests.every((request) => request.status === 200)).toBe(true);
  });

  it('a burst over the server limit completes through 503 retries when the client limiter is off', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { users: [{ id: 1 }], clock, rateLimit: { perSecond: 10 } },
      {
        clock,
        rateLimit: false,
        retry: { retries: 10, minDelayMs: 200, maxDelayMs: 2000 },
        random: () => 0.5,
        timeoutMs: 60_000,
      },
    );
    const results = await clock.run(Promise.all(Array.from({ length: 30 }, () => client.users.get(1))));
    expect(results.every((result) => result.user.id === 1)).toBe(true);
    const limited = fake.state.requests.filter((request) => request.status === 503);
    expect(limited.length).toBeGreaterThan(0);
    expect(fake.state.requests.filter((request) => request.status === 200)).toHaveLength(30);
  });

  it('gives up with RetailCrmRateLimitError once retries are exhausted', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { clock },
      { clock, retry: { retries: 2, minDelayMs: 100, maxDelayMs: 1000 }, random: () => 0 },
    );
    fake.failNext({ status: 503, body: '<html>busy</html>', times: 3 });
    const error = await clock.run(client.credentials()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmRateLimitError);
    expect((error as RetailCrmRateLimitError).isRetryable).toBe(true);
    expect(fake.state.requests).toHaveLength(3);
    // Backoff 50 ms then 100 ms (equal jitter, random 0): min 100 ms * 2^n, halved.
    const times = fake.state.requests.map((request) => request.at);
    expect([times[1]! - times[0]!, times[2]! - times[1]!]).toEqual([50, 100]);
  });

  it('honours Retry-After', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start({ clock }, { clock, retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 } });
    fake.failNext({
      status: 429,
      body: { success: false, errorMsg: 'Too many requests' },
      headers: { 'Retry-After': '3' },
    });
    await clock.run(client.credentials());
    const times = fake.state.requests.map((request) => request.at);
    expect(times[1]! - times[0]!).toBe(3000);
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start({ clock }, { clock, retry: { retries: 3, maxRetryAfterMs: 1000 } });
    fake.failNext({ status: 503, body: '<html></html>', headers: { 'Retry-After': '120' } });
    const error = await clock.run(client.credentials()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmRateLimitError);
    expect((error as RetailCrmRateLimitError).retryAfterMs).toBe(120_000);
    expect(fake.state.requests).toHaveLength(1);
  });
});
