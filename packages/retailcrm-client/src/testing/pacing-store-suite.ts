import { randomUUID } from 'node:crypto';
import type { PacingRequest, PacingStore } from '../pacing-limiter.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

/** The parts of vitest (or jest) the suite uses; passed in so this module does not depend on a test runner. */
export interface StoreSuiteApi {
  /** Groups the suite's tests. */
  describe(name: string, fn: () => void): void;
  /** Declares one test, with an optional timeout in ms. */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The runner's `expect` (the suite uses `toBe`, `toBeGreaterThan`, `toBeLessThanOrEqual`, `toHaveLength`). */
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic.
  expect: (value: unknown) => any;
  /** Runs after each test (the suite disposes its stores there). */
  afterEach(fn: () => Promise<void>): void;
}

/** A store made for one test, and how to release what it opened (a connection). */
export interface StoreUnderTest<T> {
  /** The store under test. */
  store: T;
  /** Called after the test. */
  dispose?(): Promise<void>;
}

/** What {@link registerPacingStoreSuite} asks its factory for. */
export interface PacingStoreSuiteOptions {
  /**
   * The budget's key (one RetailCRM account): stores made with the same key share one budget where the
   * implementation can share (see {@link PacingStoreSuiteSettings.sharedByKey}); different keys never do.
   */
  key: string;
  /** The suite's clock; a store that takes a clock uses it (see {@link PacingStoreSuiteSettings.realTime}). */
  clock: ManualClock;
}

/** Makes a fresh PacingStore for one test: the store itself, or `{store, dispose}`. */
export type PacingStoreFactory = (
  options: PacingStoreSuiteOptions,
) => PacingStore | StoreUnderTest<PacingStore> | Promise<PacingStore | StoreUnderTest<PacingStore>>;

/** Settings of {@link registerPacingStoreSuite}. */
export interface PacingStoreSuiteSettings {
  /** The store keeps time by its own clock (Redis `TIME`), not the suite's: the suite then waits in real time. */
  realTime?: boolean;
  /**
   * Two stores made with the same key share one budget (several processes on one Redis): the suite checks that
   * a second store under the key waits for the first one's send.
   */
  sharedByKey?: boolean;
}

const isStoreUnderTest = (made: PacingStore | StoreUnderTest<PacingStore>): made is StoreUnderTest<PacingStore> =>
  'store' in made;

/**
 * The {@link PacingStore} conformance suite: one send per `intervalMs` (a waiter is told how long and gets the
 * slot after that), at most `limit` requests counting at once, a request counting until `windowMs` after its
 * `complete` (or `holdMs` after its send when it never completes), a late or unknown `complete` never adds a
 * count, exactly one slot among concurrent callers, and budgets under different keys kept apart.
 * `registerPacingStoreSuite({describe, it, expect, afterEach}, 'mine', ({clock}) => createMemoryPacingStore(clock))`;
 * a store on Redis' clock passes `{realTime: true, sharedByKey: true}`.
 */
export function registerPacingStoreSuite(
  t: StoreSuiteApi,
  name: string,
  factory: PacingStoreFactory,
  settings: PacingStoreSuiteSettings = {},
): void {
  const { describe, it, expect, afterEach } = t;
  const realTime = settings.realTime === true;
  const timeoutMs = 20_000;

  describe(`PacingStore contract: ${name}`, () => {
    const open: Array<StoreUnderTest<PacingStore>> = [];
    afterEach(async () => {
      for (const made of open.splice(0).reverse()) await made.dispose?.();
    });

    /** One test's clock, stores and time: `elapse` moves the manual clock, or waits in real time (with slack). */
    const scenario = () => {
      const clock = createManualClock(1_800_000_000_000);
      const run = randomUUID().slice(0, 8);
      const make = async (key = 'a') => {
        const made = await factory({ key: `pace-${run}-${key}`, clock });
        const wrapped = isStoreUnderTest(made) ? made : { store: made };
        open.push(wrapped);
        return wrapped.store;
      };
      const elapse = async (ms: number) => {
        if (realTime) await new Promise((resolve) => setTimeout(resolve, Math.ceil(ms) + 10));
        else clock.advance(ms);
      };
      let seq = 0;
      const request = (limits: Omit<PacingRequest, 'id'>) => (): PacingRequest => ({
        id: `${run}-${seq++}`,
        ...limits,
      });
      return { make, elapse, request };
    };

    it(
      'one send per interval: a second caller is told how long to wait, and gets the slot after that',
      async () => {
        const { make, elapse, request } = scenario();
        const store = await make();
        const next = request({ intervalMs: 200, limit: 100, windowMs: 1000, holdMs: 10_000 });
        expect(await store.tryAcquire(next())).toBe(0);
        const wait = await store.tryAcquire(next());
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(200);
        if (!realTime) {
          await elapse(wait - 1);
          expect(await store.tryAcquire(next())).toBeGreaterThan(0);
          await elapse(1);
        } else {
          await elapse(wait);
        }
        expect(await store.tryAcquire(next())).toBe(0);
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
      },
      timeoutMs,
    );

    it(
      'at most `limit` count at once; an answered request counts until `windowMs` after its complete',
      async () => {
        const { make, elapse, request } = scenario();
        const store = await make();
        const next = request({ intervalMs: 1, limit: 2, windowMs: 500, holdMs: 60_000 });
        const a = next();
        expect(await store.tryAcquire(a)).toBe(0);
        await elapse(2);
        expect(await store.tryAcquire(next())).toBe(0);
        await elapse(2);
        // Two in flight: a third waits, however long they take.
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
        await elapse(100);
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
        // a's answer came back: it still counts for one window.
        await store.complete(a.id, 500);
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
        await elapse(500);
        expect(await store.tryAcquire(next())).toBe(0);
        await elapse(2);
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
      },
      timeoutMs,
    );

    it(
      'a request that never completes stops counting `holdMs` after its send',
      async () => {
        const { make, elapse, request } = scenario();
        const store = await make();
        const next = request({ intervalMs: 1, limit: 1, windowMs: 100, holdMs: 400 });
        expect(await store.tryAcquire(next())).toBe(0);
        await elapse(2);
        expect(await store.tryAcquire(next())).toBeGreaterThan(0);
        await elapse(400);
        expect(await store.tryAcquire(next())).toBe(0);
      },
      timeoutMs,
    );

    it(
      'a complete for an unknown id, or one arriving after the request stopped counting, adds no count',
      async () => {
        const { make, elapse, request } = scenario();
        const store = await make();
        const next = request({ intervalMs: 1, limit: 2, windowMs: 100, holdMs: 60_000 });
        await store.complete('never-acquired', 100);
        const a = next();
        expect(await store.tryAcquire(a)).toBe(0);
        await store.complete(a.id, 100);
        await elapse(100);
        expect(await store.tryAcquire(next())).toBe(0); // a stopped counting
        await store.complete(a.id, 100); // a late duplicate
        await store.complete('never-acquired', 100);
        await elapse(2);
        // Only the one in flight counts: a third request still fits under the limit of 2.
        expect(await store.tryAcquire(next())).toBe(0);
      },
      timeoutMs,
    );

    it(
      'exactly one of many concurrent callers gets the slot',
      async () => {
        const { make, request } = scenario();
        const store = await make();
        const next = request({ intervalMs: 5000, limit: 100, windowMs: 1000, holdMs: 10_000 });
        const waits = await Promise.all(Array.from({ length: 10 }, () => store.tryAcquire(next())));
        expect(waits.filter((wait) => wait === 0)).toHaveLength(1);
      },
      timeoutMs,
    );

    it(
      'budgets under different keys are kept apart',
      async () => {
        const { make, request } = scenario();
        const [one, two] = [await make('one'), await make('two')];
        const next = request({ intervalMs: 5000, limit: 1, windowMs: 1000, holdMs: 10_000 });
        expect(await one.tryAcquire(next())).toBe(0);
        expect(await two.tryAcquire(next())).toBe(0);
        expect(await one.tryAcquire(next())).toBeGreaterThan(0);
      },
      timeoutMs,
    );

    if (settings.sharedByKey) {
      it(
        'stores under one key share one budget (one schedule, one count)',
        async () => {
          const { make, elapse, request } = scenario();
          const [first, second] = [await make('shared'), await make('shared')];
          const next = request({ intervalMs: 1, limit: 1, windowMs: 100, holdMs: 60_000 });
          const a = next();
          expect(await first.tryAcquire(a)).toBe(0);
          await elapse(2);
          expect(await second.tryAcquire(next())).toBeGreaterThan(0);
          await first.complete(a.id, 100);
          await elapse(100);
          expect(await second.tryAcquire(next())).toBe(0);
          const concurrent = request({ intervalMs: 5000, limit: 100, windowMs: 1000, holdMs: 10_000 });
          const [x, y] = [await make('race'), await make('race')];
          const waits = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? x : y).tryAcquire(concurrent())),
          );
          expect(waits.filter((wait) => wait === 0)).toHaveLength(1);
        },
        timeoutMs,
      );
    }
  });
}
