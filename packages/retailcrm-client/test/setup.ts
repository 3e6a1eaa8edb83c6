import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRetailCrmClient, type RetailCrmClientOptions } from '../src/index.js';
import { createFakeRetailCrm, type FakeRetailCrm, type FakeRetailCrmOptions } from '../src/testing/index.js';

/** One msw server per test file; each test gets a fresh fake via `server.use`. */
export function useFakeRetailCrm() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());

  return {
    server,
    start(options: FakeRetailCrmOptions = {}, clientOptions: Partial<RetailCrmClientOptions> = {}) {
      const fake: FakeRetailCrm = createFakeRetailCrm(options);
      server.use(...fake.handlers);
      const client = createRetailCrmClient({
        url: fake.url,
        apiKey: fake.apiKey,
        retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 },
        // Private budget per test: the per-key registry would carry one test's requests into the next.
        rateLimit: { scope: 'client' },
        ...clientOptions,
      });
      return { fake, client };
    },
  };
}
