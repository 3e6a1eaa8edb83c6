import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('runs at most `limit` tasks and serves waiters in order', async () => {
    const semaphore = new Semaphore(1);
    const order: number[] = [];
    let release!: () => void;
    const first = semaphore.run(() => new Promise<void>((resolve) => (release = resolve)).then(() => order.push(1)));
    const second = semaphore.run(async () => order.push(2));
    const third = semaphore.run(async () => order.push(3));
    await Promise.resolve();
    expect(semaphore.pending).toBe(2);
    release();
    await Promise.all([first, second, third]);
    expect(order).toEqual([1, 2, 3]);
  });
});
