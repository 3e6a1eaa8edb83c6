import { inspect } from 'node:util';
import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import {
  createRetailCrmClient,
  isRetailCrmApiError,
  isRetailCrmError,
  isRetailCrmRateLimitError,
  isRetailCrmValidationError,
  RetailCrmAccountNotFoundError,
  RetailCrmApiError,
  RetailCrmAuthError,
  RetailCrmError,
  RetailCrmInvalidResponseError,
  RetailCrmNetworkError,
  RetailCrmRateLimitError,
  RetailCrmTimeoutError,
  RetailCrmValidationError,
} from '../src/index.js';
import { createManualClock } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();
const SECRET = 'sk-live-SUPER-SECRET-KEY-1234567890';

function everything(value: unknown): string {
  if (value instanceof Error) {
    return [value.message, value.stack, String(value), JSON.stringify(value), inspect(value, { depth: 5 })].join('\n');
  }
  return [JSON.stringify(value), inspect(value, { depth: 5 }), String(value)].join('\n');
}

describe('guards', () => {
  it('the base guard accepts every error of the package and nothing else; subclass guards only their class', () => {
    const api = new RetailCrmApiError('x', { status: 400 });
    const limited = new RetailCrmRateLimitError('x', { retryAfterMs: 1000 });
    const invalid = new RetailCrmValidationError('x', ['limit: 20, 50 or 100']);
    const auth = new RetailCrmAuthError('x');
    for (const error of [api, limited, invalid, auth]) expect(isRetailCrmError(error)).toBe(true);
    expect(isRetailCrmError(new Error('api_error'))).toBe(false);
    expect(isRetailCrmError({ code: 'api_error', isRetryable: false })).toBe(false);
    expect([api, limited, invalid, auth].map(isRetailCrmApiError)).toEqual([true, false, false, false]);
    expect([api, limited, invalid, auth].map(isRetailCrmRateLimitError)).toEqual([false, true, false, false]);
    expect([api, limited, invalid, auth].map(isRetailCrmValidationError)).toEqual([false, false, true, false]);
    expect([api.code, limited.code, invalid.code, auth.code]).toEqual([
      'api_error',
      'rate_limited',
      'validation',
      'auth',
    ]);
  });
});

describe('error mapping', () => {
  it('403 Wrong "apiKey" value -> RetailCrmAuthError', async () => {
    const { fake } = env.start();
    const client = createRetailCrmClient({ url: fake.url, apiKey: 'wrong-key', retry: false });
    const error = (await client.credentials().catch((caught: unknown) => caught)) as RetailCrmAuthError;
    expect(error).toBeInstanceOf(RetailCrmAuthError);
    expect(error).toBeInstanceOf(RetailCrmError);
    expect(error.code).toBe('auth');
    expect(error.status).toBe(403);
    expect(error.errorMsg).toBe('Wrong "apiKey" value.');
    expect(error.isRetryable).toBe(false);
    expect(error.request).toEqual({ method: 'GET', path: '/api/credentials' });
  });

  it('405 with an HTML body -> RetailCrmAccountNotFoundError', async () => {
    const { client, fake } = env.start();
    fake.setAccountExists(false);
    await expect(client.users.list()).rejects.toBeInstanceOf(RetailCrmAccountNotFoundError);
  });

  it('"Account does not exist." in a JSON envelope -> RetailCrmAccountNotFoundError', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 404, body: { success: false, errorMsg: 'Account does not exist.' } });
    await expect(client.users.list()).rejects.toMatchObject({ code: 'account_not_found', status: 404 });
  });

  it('errors as a list or an object are both kept', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 400, body: { success: false, errorMsg: 'Errors', errors: ['a is bad', 'b is bad'] } });
    const listError = (await client.credentials().catch((caught: unknown) => caught)) as RetailCrmApiError;
    expect(listError.errors).toEqual(['a is bad', 'b is bad']);
    fake.failNext({ status: 460, body: { success: false, errorMsg: 'Partial', errors: { 3: 'duplicate' } } });
    const objectError = (await client.credentials().catch((caught: unknown) => caught)) as RetailCrmApiError;
    expect(objectError.status).toBe(460);
    expect(objectError.errors).toEqual({ 3: 'duplicate' });
  });

  it('200 with success:false is an error too', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 200, body: { success: false, errorMsg: 'Nope' } });
    await expect(client.credentials()).rejects.toMatchObject({ code: 'api_error', errorMsg: 'Nope' });
  });

  it('HTML / empty / garbage bodies never crash the parser', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 500, body: '<html><body>Internal error</body></html>', times: 4 });
    const error = (await client.credentials().catch((caught: unknown) => caught)) as RetailCrmApiError;
    expect(error).toBeInstanceOf(RetailCrmApiError);
    expect(error.message).toContain('non-JSON body');
    fake.failNext({ status: 200, body: '<html>maintenance</html>' });
    await expect(client.credentials()).rejects.toBeInstanceOf(RetailCrmInvalidResponseError);
    fake.failNext({ status: 200, body: { success: true, credentials: 'not-a-list' } });
    await expect(client.credentials()).rejects.toThrow(/unexpected shape: credentials/);
  });

  it('a 5xx is retried for GET and then succeeds', async () => {
    const { client, fake } = env.start();
    fake.failNext({ status: 502, body: '<html>bad gateway</html>', times: 2 });
    await expect(client.credentials()).resolves.toMatchObject({ success: true });
    expect(fake.state.requests.map((request) => request.status)).toEqual([502, 502, 200]);
  });

  it('tolerates unknown fields', async () => {
    const { client, fake } = env.start();
    fake.failNext({
      status: 200,
      body: { success: true, credentials: [], sitesAvailable: [], somethingNew: { deep: true } },
    });
    const res = await client.credentials();
    expect((res as Record<string, unknown>).somethingNew).toEqual({ deep: true });
  });

  it('timeout -> RetailCrmTimeoutError after retries', async () => {
    const clock = createManualClock(0);
    const { fake, server } = { ...env.start(), server: env.server };
    server.use(http.get(`${fake.url}/api/credentials`, () => new Promise<Response>(() => undefined)));
    const client = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      clock,
      timeoutMs: 2000,
      retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 },
    });
    const error = (await clock.run(client.credentials()).catch((caught: unknown) => caught)) as RetailCrmTimeoutError;
    expect(error).toBeInstanceOf(RetailCrmTimeoutError);
    expect(error.timeoutMs).toBe(2000);
    expect(error.isRetryable).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(4000);
  });

  it('network failure -> RetailCrmNetworkError, retried', async () => {
    const { fake } = env.start();
    let calls = 0;
    env.server.use(
      http.get(`${fake.url}/api/credentials`, () => {
        calls++;
        return calls === 1 ? HttpResponse.error() : HttpResponse.json({ success: true, credentials: [] });
      }),
    );
    const client = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      retry: { minDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(client.credentials()).resolves.toMatchObject({ success: true });
    expect(calls).toBe(2);

    const failing = createRetailCrmClient({
      url: fake.url,
      apiKey: fake.apiKey,
      retry: false,
      fetch: () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
    });
    const error = await failing.credentials().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmNetworkError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});

describe('the API key never leaks', () => {
  it('not in errors, logs, toString/JSON/inspect of the client, nor the fake records', async () => {
    const { fake } = env.start({ apiKey: SECRET });
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const client = createRetailCrmClient({
      url: fake.url,
      apiKey: SECRET,
      logger,
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 },
    });
    // A server that echoes the key back in its error must not make us repeat it.
    fake.failNext({
      status: 400,
      body: { success: false, errorMsg: `Bad key ${SECRET}`, errors: { [`f-${SECRET}`]: `key=${SECRET}` } },
    });
    fake.failNext({ status: 503, body: '<html></html>', times: 2 });
    fake.failNext({ status: 403, body: { success: false, errorMsg: `Wrong "apiKey" value. ${SECRET}` } });
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) errors.push(await client.credentials().catch((caught: unknown) => caught));
    const wrong = createRetailCrmClient({ url: fake.url, apiKey: `${SECRET}-wrong`, logger, retry: false });
    errors.push(await wrong.credentials().catch((caught: unknown) => caught));
    const timeoutClient = createRetailCrmClient({
      url: fake.url,
      apiKey: SECRET,
      logger,
      retry: false,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
      timeoutMs: 5,
    });
    errors.push(await timeoutClient.credentials().catch((caught: unknown) => caught));

    expect(errors.map((error) => (error as RetailCrmError).code)).toEqual([
      'api_error',
      'rate_limited',
      'auth',
      'auth',
      'timeout',
    ]);
    expect((errors[0] as RetailCrmApiError).message).toContain('Bad key ***');
    for (const error of errors) expect(everything(error)).not.toContain(SECRET);
    expect(logger.debug).toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalled();
    // pino's order: fields first, message second.
    expect(logger.warn.mock.calls[0]).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/credentials', code: 'api_error', status: 400, attempts: 1 }),
      'retailcrm request failed',
    ]);
    expect(logger.debug.mock.calls.map((call) => call[1])).toContain('retailcrm retry');
    for (const call of [...logger.debug.mock.calls, ...logger.warn.mock.calls])
      expect(everything(call)).not.toContain(SECRET);
    expect(everything(client)).not.toContain(SECRET);
    expect(String(client)).toBe(`RetailCrmClient(${fake.url})`);
    expect(JSON.parse(JSON.stringify(client))).toEqual({ url: fake.url });
    expect(everything(fake.state.requests)).not.toContain(SECRET);
    expect(fake.state.requests[0]!.apiKey).toBe('***7890');
  });
});
