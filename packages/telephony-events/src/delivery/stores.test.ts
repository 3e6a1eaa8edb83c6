import { describe, expect, it } from 'vitest';
import { createInMemoryDeadLetterStore, createInMemoryIntegrationLog } from './stores.js';

const letter = (id: string) => ({
  job: { id, enterpriseNumber: '0367', crm: 'retailcrm', event: {} as never, receivedAt: 0 },
  error: { name: 'Error', message: 'x', isRetryable: false },
  attempts: 1,
  failedAt: new Date(0),
});

describe('in-memory stores', () => {
  it('keep the newest `max` entries, return copies, and clear', () => {
    const store = createInMemoryDeadLetterStore({ max: 2 });
    for (const id of ['a', 'b', 'c']) store.add(letter(id));
    expect(store.list().map((e) => e.job.id)).toEqual(['b', 'c']);
    store.list().pop();
    expect(store.list()).toHaveLength(2);
    store.clear();
    expect(store.list()).toEqual([]);

    const log = createInMemoryIntegrationLog({ max: 1 });
    log.write({ operation: 'first' } as never);
    log.write({ operation: 'second' } as never);
    expect(log.list().map((r) => r.operation)).toEqual(['second']);
  });
});
