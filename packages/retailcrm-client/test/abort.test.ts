import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { RetailCrmError } from '../src/index.js';
import { createManualClock } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

describe('per-call AbortSignal', () => {
  it('cancels a call waiting for a rate-limit slot: it is never sent', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start({ users: [{ id: 1 }], clock }, { clock, rateLimit: { perSecond: 1 } });
    await clock.run(client.users.get(1));
    const controller = new AbortController();
    const waiting = client.users.get(1, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    clock.advance(5000);
    expect(fake.state.requests).toHaveLength(1);
    // The slot was not consumed by the cancelled call.
    await clock.run(client.users.get(1));
    expect(fake.state.requests).toHaveLength(2);
  });

  it('cancels an in-flight request with the caller reason, without retrying', async () => {
    const { client, fake } = env.start();
    let arrived = 0;
    env.server.use(
      http.get(`${fake.url}/api/credentials`, () => {
        arrived++;
        return new Promise<Response>(() => undefined);
      }),
    );
    const controller = new AbortController();
    const pending = client.credentials({ signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('shutdown'));
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(RetailCrmError);
    expect((error as Error).message).toBe('shutdown');
    expect(arrived).toBe(1);
  });

  it('cancels the backoff between retries', async () => {
    const clock = createManualClock(0);
    const { client, fake } = env.start({ clock }, { clock, retry: { retries: 5, minDelayMs: 1000, maxDelayMs: 1000 } });
    fake.failNext({ status: 503, body: '<html></html>', times: 5 });
    const controller = new AbortController();
    const pending = client.telephony.responsibleManager({ phone: '1' }, { signal: controller.signal });
    pending.catch(() => undefined);
    // Let the first attempt fail and the backoff start, then cancel.
    for (let i = 0; i < 50 && fake.state.requests.length === 0; i++) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(fake.state.requests).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('an already aborted signal sends nothing', async () => {
    const { client, fake } = env.start();
    await expect(client.credentials({ signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow('no');
    expect(fake.state.requests).toHaveLength(0);
  });
});
