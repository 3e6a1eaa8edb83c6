import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryDeadLetterStore, createInMemoryIntegrationLog } from '../src/index.js';
import { registerDeadLetterStoreSuite, registerIntegrationLogSuite } from '../src/testing/index.js';

// The store port suites of ./testing against the in-memory stores (the server runs them on its SQL tables).

const api = { describe, it, expect, afterEach };

registerDeadLetterStoreSuite(api, 'in memory', () => {
  const store = createInMemoryDeadLetterStore();
  return {
    store,
    entries: async (enterpriseNumber) =>
      store
        .list()
        .filter((entry) => entry.job.enterpriseNumber === enterpriseNumber)
        .map((entry) => ({
          jobId: entry.job.id,
          enterpriseNumber: entry.job.enterpriseNumber,
          event: entry.job.event,
          errorMessage: entry.error.message,
          attempts: entry.attempts,
        })),
  };
});

registerIntegrationLogSuite(api, 'in memory', () => {
  const sink = createInMemoryIntegrationLog();
  return {
    sink,
    records: async (enterpriseNumber) =>
      sink
        .list()
        .filter((record) => record.enterpriseNumber === enterpriseNumber)
        .map(({ createdAt: _createdAt, ...record }) => record),
  };
});
