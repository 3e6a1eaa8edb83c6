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

export interface InMemoryIntegrationLog extends IntegrationLogSink {
  list(): IntegrationLogRecord[];
  clear(): void;
}

/** Append-only list that keeps the newest `max` items (the in-memory stores below share it). */
function boundedList<T>(max: number) {
  const items: T[] = [];
  return {
    push(item: T) {
      items.push(item);
      if (items.length > max) items.splice(0, items.length - max);
    },
    list: () => [...items],
    clear: () => {
      items.length = 0;
    },
  };
}

/** Bounded in-memory store (oldest dropped beyond `max`, default 1000); wire a database one in production. */
export function createInMemoryDeadLetterStore(options: { max?: number } = {}): InMemoryDeadLetterStore {
  const entries = boundedList<DeadLetter>(options.max ?? 1000);
  return { add: entries.push, list: entries.list, clear: entries.clear };
}

/** Bounded in-memory integration log (oldest dropped beyond `max`, default 1000). */
export function createInMemoryIntegrationLog(options: { max?: number } = {}): InMemoryIntegrationLog {
  const records = boundedList<IntegrationLogRecord>(options.max ?? 1000);
  return { write: records.push, list: records.list, clear: records.clear };
}
