import { describe, expect, it } from 'vitest';
import { createRetailCrmClient, RetailCrmRateLimitError } from '../src/index.js';
import { createManualClock, maxInAnyWindow, type RecordedRequest } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

const maxInWindow = (requests: { at: number }[], windowMs: number) =>
  maxInAnyWindow(
    requests.map((request) => request.at),
    windowMs,
  );

describe('client-side pacing limiter against the fake', () => {
  it('200 concurrent calls are paced evenly: never over 10 in any second at the fake, 98 % of the limit', async () => {
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
    // Burst 1 at 9.8 rps (2 % safety margin): one request every 1000 / 9.8 ms, no bursts.
    const times = fake.state.requests.map((request) => request.at);
    const gaps = times.slice(1).map((at, index) => at - times[index]!);
    expect(Math.min(...gaps)).toBeCloseTo(1000 / 9.8, 6);
    expect(Math.max(...times) - Math.min(...times)).toBeCloseTo((199 * 1000) / 9.8, 6);
  });

  it('holds with the real system clock too (short window, timestamps taken when each request is sent)', async () => {
    const { fake } = env.start({ users: [{ id: 1 }], rateLimit: false });
    const sent: number[] = [];
    const timed = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      // A wide margin: on a 100 ms window the default 4 % leaves only 4 ms for event-loop lag.
      rateLimit: { perSecond: 5, windowMs: 100, safetyMargin: 0.2 },
      fetch: (input, init) => {
        sent.push(performance.now());
        return fetch(input, init);
      },
    });
    const started = performance.now();
    await Promise.all(Array.from({ length: 30 }, () => timed.users.get(1)));
    expect(sent).toHaveLength(30);
    const stamps = sent.map((at) => ({ at }) as RecordedRequest);
    expect(maxInWindow(stamps, 100)).toBeLessThanOrEqual(5);
    // 30 requests at 4 per 100 ms: 29 gaps of 25 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(29 * 25 - 2);
  });

  it('clients built per operation share the budget of their API key; other keys have their own', async () => {
    const { fake } = env.start({ users: [{ id: 1 }], rateLimit: false });
    const sent: { key: string; at: number }[] = [];
    const make = (apiKey: string) =>
      createRetailCrmClient({
        url: fake.url,
        apiKey,
        retry: false,
        rateLimit: { perSecond: 4, windowMs: 150, safetyMargin: 0.2 },
        fetch: (input, init) => {
          sent.push({ key: apiKey, at: performance.now() });
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
    expect(maxInWindow(stamps(fake.apiKey), 150)).toBeLessThanOrEqual(4);
    expect(maxInWindow(stamps('other-key'), 150)).toBeLessThanOrEqual(4);
    // The two keys do not wait for each other.
    expect(maxInWindow([...stamps(fake.apiKey), ...stamps('other-key')], 150)).toBeGreaterThan(4);
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
    // 40 * 0.98 = 39.2 per second: 40 requests fit in one second, never 41.
    expect(maxInWindow(fake.requestsTo(/^\/telephony\//), 1000)).toBe(40);
    expect(maxInWindow(fake.requestsTo('/api/credentials'), 1000)).toBe(10);
    expect(fake.state.requests.every((request) => request.status === 200)).toBe(true);
  });

  it('a request counts until one window after its answer: slow answers slow the next sends, never crowd the server', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { users: [{ id: 1 }], clock },
      { clock, rateLimit: { perSecond: 2, safetyMargin: 0 }, timeoutMs: 60_000 },
    );
    // The first answer takes 700 ms, so at 1000 ms (when pacing alone would send) two requests still count:
    // the third goes when the second stops counting (its answer at 500 + 1000).
    fake.failNext({ delayMs: 700, path: '/users/1' });
    await clock.run(Promise.all([client.users.get(1), client.users.get(1), client.users.get(1)]));
    expect(fake.state.requests.map((request) => request.at)).toEqual([0, 500, 1500]);
  });

  it('a call cancelled while waiting for its slot hands the slot to the next caller', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { users: [{ id: 1 }], clock },
      { clock, rateLimit: { perSecond: 1, safetyMargin: 0 } },
    );
    const controller = new AbortController();
    const first = client.users.get(1);
    const cancelled = client.users.get(1, { signal: controller.signal });
    const third = client.users.get(1);
    await clock.run(first);
    controller.abort(new Error('caller gave up'));
    await expect(cancelled).rejects.toThrow('caller gave up');
    await clock.run(third);
    expect(fake.state.requests.map((request) => request.at)).toEqual([0, 1000]);
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
      // No pacing here: the gaps are the backoff alone.
      { clock, rateLimit: false, retry: { retries: 2, minDelayMs: 100, maxDelayMs: 1000 }, random: () => 0 },
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

  it('honours Retry-After plus up to minDelayMs of jitter', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { clock },
      { clock, retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 }, random: () => 0.5 },
    );
    fake.failNext({
      status: 429,
      body: { success: false, errorMsg: 'Too many requests' },
      headers: { 'Retry-After': '3' },
    });
    await clock.run(client.credentials());
    const times = fake.state.requests.map((request) => request.at);
    expect(times[1]! - times[0]!).toBe(3005);
  });

  it('retries 503 and 429 for non-idempotent calls (not processed), exactly one record results', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start(
      { clock, users: [{ id: 27 }] },
      { clock, retry: { retries: 3, minDelayMs: 100, maxDelayMs: 1000 }, random: () => 0 },
    );
    fake.failNext({ status: 503, body: '<html>busy</html>', path: '/customers/create' });
    fake.failNext({ status: 429, body: { success: false, errorMsg: 'Too many requests' }, path: '/customers/create' });
    fake.failNext({ status: 503, path: '/tasks/create', times: 2 });
    const created = await clock.run(client.customers.create({ firstName: 'Ivan' }));
    const task = await clock.run(client.tasks.create({ text: 'Call back', performerId: 27 }));
    expect(created.id).toBeDefined();
    expect(task.id).toBe(1);
    expect(fake.requestsTo('/customers/create').map((request) => request.status)).toEqual([503, 429, 201]);
    expect(fake.requestsTo('/tasks/create').map((request) => request.status)).toEqual([503, 503, 201]);
    expect(fake.state.customers).toHaveLength(1);
    expect(fake.state.tasks).toHaveLength(1);
  });

  it('keeps errorMsg of a JSON rate-limit answer on the error', async () => {
    const { client, fake } = env.start({}, { retry: false });
    fake.failNext({ status: 503, body: { success: false, errorMsg: 'Limit of requests exceeded' } });
    const error = (await client.credentials().catch((caught: unknown) => caught)) as RetailCrmRateLimitError;
    expect(error).toBeInstanceOf(RetailCrmRateLimitError);
    expect(error.errorMsg).toBe('Limit of requests exceeded');
    expect(error.message).toContain('Limit of requests exceeded');
    expect(error.toJSON()).toMatchObject({ errorMsg: 'Limit of requests exceeded', code: 'rate_limited' });
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
