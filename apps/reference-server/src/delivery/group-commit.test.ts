import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from './group-commit.js';

/** A commit the test finishes by hand, recording every batch and how many commits overlapped. */
function manualCommits() {
  const batches: number[][] = [];
  const open: Array<() => void> = [];
  let running = 0;
  let mostAtOnce = 0;
  return {
    batches,
    open,
    mostAtOnce: () => mostAtOnce,
    async commit(items: number[]) {
      batches.push(items);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise<void>((resolve) => open.push(resolve));
      running--;
      if (items.includes(-1)) throw new Error('batch refused');
      return items.map((i) => i * 10);
    },
    /** Finishes the oldest commit still running. */
    finishOne: () => open.shift()?.(),
  };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('group committer', () => {
  it('commits what arrives within the window as one batch, and what arrives during a commit as the next', async () => {
    const c = manualCommits();
    const g = createGroupCommitter({ commit: c.commit, windowMs: 1 });
    const first = [1, 2, 3].map((i) => g.submit(i));
    await turn();
    expect(c.batches).toEqual([[1, 2, 3]]);
    const second = [4, 5].map((i) => g.submit(i));
    await turn();
    expect(c.batches).toHaveLength(1); // one commit at a time by default
    expect(g.pending()).toBe(5);
    c.finishOne();
    expect(await Promise.all(first)).toEqual([10, 20, 30]);
    await turn();
    expect(c.batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    c.finishOne();
    expect(await Promise.all(second)).toEqual([40, 50]);
    expect(c.mostAtOnce()).toBe(1);
    expect(g.pending()).toBe(0);
  });

  it('splits at maxBatch', async () => {
    const c = manualCommits();
    const g = createGroupCommitter({ commit: c.commit, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => g.submit(i));
    await turn();
    while (c.open.length > 0) {
      c.finishOne();
      await turn();
    }
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
    expect(c.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('with maxInFlight, starts new batches while earlier ones are still being written, never more at once', async () => {
    const c = manualCommits();
    const g = createGroupCommitter({ commit: c.commit, maxInFlight: 2 });
    const a = g.submit(1);
    await turn();
    const b = g.submit(2);
    await turn();
    const d = g.submit(3);
    await turn();
    expect(c.batches).toEqual([[1], [2]]); // the third waits for a free slot
    expect(c.mostAtOnce()).toBe(2);
    c.finishOne();
    expect(await a).toBe(10);
    await turn();
    expect(c.batches).toEqual([[1], [2], [3]]);
    c.finishOne();
    c.finishOne();
    expect([await b, await d]).toEqual([20, 30]);
    expect(c.mostAtOnce()).toBe(2);
  });

  it('a failed batch rejects its own items only; close() commits what is pending', async () => {
    const c = manualCommits();
    const g = createGroupCommitter({ commit: c.commit, maxInFlight: 2 });
    const bad = [g.submit(-1), g.submit(7)];
    await turn();
    const good = g.submit(8);
    await turn();
    const late = g.submit(9);
    const closed = g.close();
    c.finishOne();
    await expect(bad[0]).rejects.toThrow('batch refused');
    await expect(bad[1]).rejects.toThrow('batch refused');
    c.finishOne();
    expect(await good).toBe(80);
    await turn();
    c.finishOne();
    await closed;
    expect(await late).toBe(90);
    expect(g.pending()).toBe(0);
  });

  it('a commit that throws before its first await rejects its batch and the next batch still goes', async () => {
    let calls = 0;
    const g = createGroupCommitter<number, number>({
      commit(items) {
        calls++;
        if (items.includes(-1)) throw new Error('refused at once');
        return Promise.resolve(items);
      },
    });
    await expect(g.submit(-1)).rejects.toThrow('refused at once');
    expect(await g.submit(5)).toBe(5);
    await g.close();
    expect(calls).toBe(2);
    expect(g.pending()).toBe(0);
  });
});
