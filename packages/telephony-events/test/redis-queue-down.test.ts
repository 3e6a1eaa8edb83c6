import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTelephonyPipeline } from '../src/delivery/pipeline.js';
import { createRedisQueue } from '../src/queue/redis-queue.js';
import { createRetailCrmSink } from '../src/retailcrm/retailcrm-sink.js';
import { createFakeTelephonyApi } from '../src/testing/fake-telephony-api.js';

/** A loopback port nobody listens on: Redis is "down". */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Redis queue while Redis is unreachable', () => {
  it('enqueue fails fast with a retryable queue_unavailable, handle() answers, close() does not hang', async () => {
    const warnings: unknown[] = [];
    const queue = createRedisQueue({
      connection: `redis://127.0.0.1:${await closedPort()}`,
      worker: false,
      enqueueTimeoutMs: 150,
      closeTimeoutMs: 200,
      logger: { info() {}, warn: (obj) => warnings.push(obj), error() {} },
    });
    const pipeline = createTelephonyPipeline({
      enablement: async () => ({ retailcrm: true }),
      sinks: [
        createRetailCrmSink({
          config: async () => ({
            domain: 'https://a.retailcrm.ru',
            api_key: 'k-123456',
            enabled: true,
            user_extensions: {},
          }),
          createApi: () => createFakeTelephonyApi(),
        }),
      ],
      queue,
    });
    await pipeline.start();

    const started = Date.now();
    const error = await queue
      .enqueue({ id: 'x|1', enterpriseNumber: '0367', crm: 'retailcrm', event: {} as never, receivedAt: 0 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'queue_unavailable', isRetryable: true });
    const result = await pipeline.handle({
      enterprise_number: '0367',
      event_type: 'dial',
      payload: { UniqueId: 'u1', CallType: 0, Phone: '79001234567' },
    });
    expect(result).toMatchObject({ ok: false, error: 'queue_unavailable' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(warnings.length).toBeGreaterThan(0);

    const closing = Date.now();
    await pipeline.close();
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});
