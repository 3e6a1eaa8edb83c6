import type { IntegrationLogRecord, IntegrationLogSink } from '../ports.js';
import type { DeadLetter } from '../queue/types.js';

/** Where given-up jobs go, with their last error; nothing is dropped silently. */
export interface DeadLetterStore {
  add(entry: DeadLetter): void | Promise<void>;
}

export interface InMemoryDeadLetterStore extends DeadLetterStore {
  list(): DeadLetter[];
  clear(): void;
}

/** Bounded in-memory store (oldest dropped beyond `max`, default 1000); wire a database one in production. */
export function createInMemoryDeadLetterStore(options: { max?: number } = {}): InMemoryDeadLetterStore {
  const max = options.max ?? 1000;
  const entries: DeadLetter[] = [];
  return {
    add(entry) {
      entries.push(entry);
      if (entries.length > max) entries.splice(0, entries.length - max);
    },
    list: () => [...entries],
    clear: () => {
      entries.length = 0;
    },
  };
}

export interface InMemoryIntegrationLog extends IntegrationLogSink {
  list(): IntegrationLogRecord[];
  clear(): void;
}

export function createInMemoryIntegrationLog(options: { max?: number } = {}): InMemoryIntegrationLog {
  const max = options.max ?? 1000;
  const records: IntegrationLogRecord[] = [];
  return {
    write(record) {
      records.push(record);
      if (records.length > max) records.splice(0, records.length - max);
    },
    list: () => [...records],
    clear: () => {
      records.length = 0;
    },
  };
}
