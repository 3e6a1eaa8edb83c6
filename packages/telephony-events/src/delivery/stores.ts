import type { IntegrationLogRecord, IntegrationLogSink } from '../ports.js';
import type { DeadLetter } from '../queue/types.js';

/** Where given-up jobs go, with their last error; nothing is dropped silently. */
export interface DeadLetterStore {
  /** Stores one given-up job; a rejection is logged by the pipeline (the entry is then only in the log). */
  add(entry: DeadLetter): void | Promise<void>;
}

/** A dead-letter store in memory, readable by tests and admin views. */
export interface InMemoryDeadLetterStore extends DeadLetterStore {
  /** A copy of the kept entries, oldest first. */
  list(): DeadLetter[];
  /** Forgets every entry. */
  clear(): void;
}

/** An integration log in memory, readable by tests. */
export interface InMemoryIntegrationLog extends IntegrationLogSink {
  /** A copy of the kept rows, oldest first. */
  list(): IntegrationLogRecord[];
  /** Forgets every row. */
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
