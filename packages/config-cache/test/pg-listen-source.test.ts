import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createPgListenInvalidationSource,
  type InvalidationEvent,
  type InvalidationListener,
  type InvalidationSource,
  type PgClientLike,
  quoteIdentifier,
} from '../src/index.js';
import { connectionSecrets } from '../src/pg-listen-source.js';
import { flush } from './helpers.js';

class FakeClient extends EventEmitter {
  queries: string[] = [];
  ended = false;
  constructor(private readonly behaviour: { failConnect?: boolean; hangQueries?: boolean; failQuery?: boolean }) {
    super();
  }
  async connect(): Promise<void> {
    if (this.behaviour.failConnect) throw new Error('ECONNREFUSED');
  }
  query(text: string): Promise<unknown> {
    this.queries.push(text);
    if (this.behaviour.hangQueries && text === 'SELECT 1') return new Promise(() => {});
    if (this.behaviour.failQuery) return Promise.reject(new Error('query failed'));
    return Promise.resolve({ rows: [] });
  }
  async end(): Promise<void> {
    this.ended = true;
  }
  notify(channel: string, payload: string): void {
    this.emit('notification', { channel, payload });
  }
}

class RecordingListener implements InvalidationListener {
  events: InvalidationEvent[] = [];
  resyncs = 0;
  connection: boolean[] = [];
  onInvalidate(event: InvalidationEvent): void {
    this.events.push(event);
  }
  onResync(): void {
    this.resyncs++;
  }
  onConnectionChange(connected: boolean): void {
    this.connection.push(connected);
  }
}

let sources: InvalidationSource[] = [];

function setup(plan: Array<ConstructorParameters<typeof FakeClient>[0]>, extra = {}) {
  const clients: FakeClient[] = [];
  const connectionStrings: string[] = [];
  const source = createPgListenInvalidationSource({
    connectionString: 'postgres://user:s3cret@db/app',
    channel: 'integrations_config_changed',
    random: () => 0,
    backoff: { minMs: 1_000, maxMs: 8_000 },
    heartbeatIntervalMs: 30_000,
    heartbeatTimeoutMs: 5_000,
    createClient: (connectionString) => {
      connectionStrings.push(connectionString);
      const client = new FakeClient(plan.shift() ?? {});
      clients.push(client);
      return client as unknown as PgClientLike;
    },
    ...extra,
  });
  sources.push(source);
  return { source, clients, connectionStrings, listener: new RecordingListener() };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  for (const source of sources) await source.stop();
  sources = [];
  vi.useRealTimers();
});

describe('createPgListenInvalidationSource (fake client)', () => {
  it('LISTENs on a quoted channel and decodes payloads into keys', async () => {
    const { source, clients, listener, connectionStrings } = setup([{}]);
    await source.start(listener);
    expect(connectionStrings).toEqual(['postgres://user:s3cret@db/app']);
    expect(clients[0]?.queries).toEqual(['LISTEN "integrations_config_changed"']);
    expect(listener.connection).toEqual([true]);

    clients[0]?.notify('integrations_config_changed', '{"enterprise_number":"0367","integration_type":"retailcrm"}');
    clients[0]?.notify('other_channel', '0368');
    clients[0]?.notify('integrations_config_changed', '');
    expect(listener.events).toEqual([
      { key: '0367', payload: '{"enterprise_number":"0367","integration_type":"retailcrm"}' },
      { key: undefined, payload: '' },
    ]);
    expect(listener.resyncs).toBe(0);
  });

  it('reconnects with capped backoff after a drop and then reports a resync', async () => {
    const warn = vi.fn();
    const { source, clients, listener } = setup([{}, { failConnect: true }, { failConnect: true }, {}], {
      logger: { warn },
    });
    await source.start(listener);
    clients[0]?.emit('error', new Error('terminating connection due to administrator command'));
    clients[0]?.emit('end');
    expect(clients[0]?.ended).toBe(true);
    expect(listener.connection).toEqual([true, false]);

    await vi.advanceTimersByTimeAsync(499); // equal jitter, random 0: 1 s / 2
    expect(clients).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(clients).toHaveLength(2); // fails
    await vi.advanceTimersByTimeAsync(1_000); // 2 s / 2
    expect(clients).toHaveLength(3); // fails
    await vi.advanceTimersByTimeAsync(1_999);
    expect(clients).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1); // 4 s / 2
    expect(clients).toHaveLength(4);
    expect(listener.connection).toEqual([true, false, true]);
    expect(listener.resyncs).toBe(1);
    // Notifications of the dead client are ignored, the new one's are delivered.
    clients[0]?.notify('integrations_config_changed', 'stale');
    clients[3]?.notify('integrations_config_changed', '0367');
    expect(listener.events.map((event) => event.key)).toEqual(['0367']);
    // The connection string (with its password) never reaches the logs.
    expect(JSON.stringify(warn.mock.calls)).not.toContain('s3cret');
  });

  it('caps the backoff and keeps retrying forever', async () => {
    const plan = Array.from({ length: 13 }, () => ({ failConnect: true }));
    const { source, clients, listener } = setup(plan);
    await source.start(listener);
    expect(listener.connection).toEqual([]);
    await vi.advanceTimersByTimeAsync(0.5e3 + 1e3 + 2e3 + 4e3 + 4e3 * 8);
    expect(clients).toHaveLength(13);
    await vi.advanceTimersByTimeAsync(4_000); // capped at 8 s → 4 s with random 0
    expect(clients).toHaveLength(14);
    expect(listener.connection).toEqual([true]);
    // The first success after a failed start is also a gap: resync.
    expect(listener.resyncs).toBe(1);
  });

  it('a heartbeat that does not answer counts as a dropped connection', async () => {
    const { source, clients, listener } = setup([{ hangQueries: true }, {}]);
    await source.start(listener);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(clients[0]?.queries.at(-1)).toBe('SELECT 1');
    expect(listener.connection).toEqual([true]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(listener.connection).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(500);
    expect(listener.connection).toEqual([true, false, true]);
    expect(listener.resyncs).toBe(1);
  });

  it('healthy heartbeats keep the connection', async () => {
    const { source, clients, listener } = setup([{}]);
    await source.start(listener);
    await vi.advanceTimersByTimeAsync(95_000);
    expect(clients[0]?.queries.filter((query) => query === 'SELECT 1')).toHaveLength(3);
    expect(clients).toHaveLength(1);
    expect(listener.connection).toEqual([true]);
  });

  it('stop ends the client and cancels pending reconnects', async () => {
    const { source, clients, listener } = setup([{}, {}]);
    await source.start(listener);
    clients[0]?.emit('end');
    await source.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(clients).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('quoteIdentifier doubles embedded quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });

  it('stop during a connect attempt discards the new client', async () => {
    let release!: () => void;
    const client = new FakeClient({});
    client.connect = () => new Promise<void>((resolve) => (release = resolve));
    const source = createPgListenInvalidationSource({
      connectionString: 'postgres://x',
      channel: 'c',
      createClient: () => client as unknown as PgClientLike,
    });
    const listener = new RecordingListener();
    const started = source.start(listener);
    await flush();
    await source.stop();
    release();
    await started;
    await flush();
    expect(client.ended).toBe(true);
    expect(listener.connection).toEqual([]);
  });

  it('masks the connection string and its password in logged driver errors', async () => {
    const warn = vi.fn();
    const { source, clients, listener } = setup([{}], { logger: { warn } });
    await source.start(listener);
    // Some drivers echo what they were given; the log line must not carry it on.
    clients[0]?.emit('error', new Error('bad connection postgres://user:s3cret@db/app (password s3cret rejected)'));
    const logged = JSON.stringify(warn.mock.calls);
    expect(logged).toContain('LISTEN connection lost');
    expect(logged).not.toContain('s3cret');
    expect(logged).toContain('***');
  });

  it('connectionSecrets finds the password of URL and key=value connection strings', () => {
    expect(connectionSecrets('postgres://u:p%40ss@h/db')).toEqual(['postgres://u:p%40ss@h/db', 'p%40ss', 'p@ss']);
    expect(connectionSecrets("host=h user=u password='se cret' dbname=d")).toContain('se cret');
    expect(connectionSecrets('host=h password=abc123 dbname=d')).toContain('abc123');
  });
});
