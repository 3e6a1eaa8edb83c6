import { describe, expect, it } from 'vitest';
import { createSlidingWindowLimiter } from './rate-limiter.js';
import { createManualClock } from './testing/manual-clock.js';

describe('createSlidingWindowLimiter', () => {
  it('grants `limit` at once, then one per expiring grant, in FIFO order', async () => {
    const clock = createManualClock(0);
    const limiter = createSlidingWindowLimiter({ limit: 3, windowMs: 1000, clock });
    const grants: [number, number][] = [];
    const all = Promise.all(
      Array.from({ length: 7 }, (_, index) =>
        limiter.acquire().then((permit) => {
          permit.commit();
          grants.push([index, clock.now()]);
        }),
      ),
    );
    await clock.run(all);
    expect(grants).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 1000],
      [4, 1000],
      [5, 1000],
      [6, 2000],
    ]);
  });

  it('a sliding window: spaced grants free slots one by one', async () => {
    const clock = createManualClock(0);
    const limiter = createSlidingWindowLimiter({ limit: 2, windowMs: 1000, clock });
    (await limiter.acquire()).commit();
    clock.advance(600);
    (await limiter.acquire()).commit();
    const third = limiter.acquire().then((permit) => {
      permit.commit();
      return clock.now();
    });
    expect(await clock.run(third)).toBe(1000);
    const fourth = limiter.acquire().then((permit) => {
      permit.commit();
      return clock.now();
    });
    expect(await clock.run(fourth)).toBe(1600);
  });

  it('a permit counts from its commit (send) time, and occupies a slot until committed', async () => {
    const clock = createManualClock(0);
    const limiter = createSlidingWindowLimiter({ limit: 1, windowMs: 1000, clock });
    const first = await limiter.acquire();
    let secondAt: number | undefined;
    const second = limiter.acquire().then((permit) => {
      secondAt = clock.now();
      permit.commit();
    });
    clock.advance(5000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondAt).toBeUndefined(); // the first permit was never sent: still holds the slot
    first.commit(); // sent at 5000
    await clock.run(second);
    expect(secondAt).toBe(6000);
  });

  it('an aborted waiter leaves the queue', async () => {
    const clock = createManualClock(0);
    const limiter = createSlidingWindowLimiter({ limit: 1, clock });
    (await limiter.acquire()).commit();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    expect(limiter.queued()).toBe(1);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(limiter.queued()).toBe(0);
  });
});
