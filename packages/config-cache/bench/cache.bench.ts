/**
 * Hit path and a 10k-reader stampede: @callbridge/config-cache vs lru-cache, async-cache-dedupe
 * and bentocache, in one run, with a bare `Map` as the floor. The hit path runs ROUNDS times (all contenders
 * in each round) and reports the median and the spread, plus per-round ratios to the peers.
 * `pnpm --filter @callbridge/config-cache bench`
 */
import os from 'node:os';
import { createCache as createDedupeCache } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { LRUCache } from 'lru-cache';
import { Bench } from 'tinybench';
import { expect, it } from 'vitest';
import { createConfigCache } from '../src/index.js';

type Cfg = { enabled: boolean; apiUrl: string };
const VALUE: Cfg = { enabled: true, apiUrl: 'https://demo.retailcrm.ru' };
const READERS = 10_000;
const HOT_KEYS = Array.from({ length: 1_000 }, (_, i) => String(i).padStart(4, '0'));
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TASK_MS = Number(process.env.TASK_MS ?? 400);

/** A "database" read: one macrotask of latency, counted. */
function makeSource() {
  const counter = { loads: 0 };
  const load = async (_key: string): Promise<Cfg> => {
    counter.loads++;
    await new Promise((resolve) => setImmediate(resolve));
    return VALUE;
  };
  return { counter, load };
}

function contenders() {
  const ours = makeSource();
  const configCache = createConfigCache<Cfg>({
    loader: { load: (key) => ours.load(key), loadAll: async () => [] },
    refreshAfterMinMs: 3_600_000,
    refreshAfterMaxMs: 3_600_000,
    negativeTtlMs: 0,
  });

  // The same cache reading the clock on every hit (the behaviour before the coarse clock), for comparison.
  const exactCache = createConfigCache<Cfg>({
    loader: { load: (key) => ours.load(key), loadAll: async () => [] },
    refreshAfterMinMs: 3_600_000,
    refreshAfterMaxMs: 3_600_000,
    negativeTtlMs: 0,
    timeResolutionMs: 0,
  });

  const lru = makeSource();
  const lruCache = new LRUCache<string, Cfg>({
    max: 100_000,
    ttl: 3_600_000,
    fetchMethod: (key) => lru.load(key),
  });

  const dedupe = makeSource();
  const dedupeCache = createDedupeCache({ ttl: 3_600, storage: { type: 'memory', options: { size: 100_000 } } }).define(
    'config',
    (key: string) => dedupe.load(key),
  );

  const bento = makeSource();
  const bentoCache = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 100_000 })) },
  });

  // The floor: what any in-memory cache has to pay at least.
  const map = new Map<string, Cfg>(HOT_KEYS.map((key) => [key, VALUE]));
  const none = { loads: 0 };

  return [
    { name: '@callbridge/config-cache get()', counter: ours.counter, get: (key: string) => configCache.get(key) },
    // Awaited by the harness like every async contender: exactly `await map.get(key)`.
    { name: 'await map.get() (bare Map)', counter: none, get: (key: string) => map.get(key), floor: true },
    { name: 'lru-cache fetch()', counter: lru.counter, get: (key: string) => lruCache.fetch(key) },
    { name: 'async-cache-dedupe', counter: dedupe.counter, get: (key: string) => dedupeCache.config(key) },
    {
      name: 'bentocache getOrSet()',
      counter: bento.counter,
      get: (key: string) => bentoCache.getOrSet({ key, ttl: '1h', factory: () => bento.load(key) }),
    },
    // Synchronous reads where the library has one: what a hot path that tolerates a miss pays.
    {
      name: '@callbridge/config-cache peek()',
      counter: ours.counter,
      get: (key: string) => configCache.peek(key),
      sync: true,
    },
    {
      name: '@callbridge/config-cache peek(), timeResolutionMs 0',
      counter: ours.counter,
      get: (key: string) => exactCache.peek(key),
      prime: (key: string) => exactCache.get(key),
      sync: true,
    },
    { name: 'lru-cache get()', counter: lru.counter, get: (key: string) => lruCache.get(key), sync: true },
    { name: 'Map.get() (bare Map)', counter: none, get: (key: string) => map.get(key), sync: true, floor: true },
  ];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

it('benchmark', async () => {
  const list = contenders();
  for (const c of list) for (const key of HOT_KEYS) await ('prime' in c && c.prime ? c.prime(key) : c.get(key));
  // Every sync contender must really hit: a peek() that returns nothing would measure a miss.
  for (const c of list) expect(c.get(HOT_KEYS[0] as string), c.name).toBeDefined();

  // Hit path: every contender once per round, rounds interleaved so a load spike hits all of them alike.
  const hitRounds = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const hit = new Bench({ name: 'hit path', time: TASK_MS, warmup: true, warmupTime: 100 });
    for (const c of list) {
      let i = 0;
      const get = c.get;
      if ('sync' in c) {
        hit.add(c.name, () => {
          for (let n = 0; n < 100; n++) get(HOT_KEYS[i++ % HOT_KEYS.length] as string);
        });
      } else {
        hit.add(c.name, async () => {
          for (let n = 0; n < 100; n++) await get(HOT_KEYS[i++ % HOT_KEYS.length] as string);
        });
      }
    }
    await hit.run();
    for (const c of list) {
      const result = hit.getTask(c.name)?.result;
      const ops = result && 'throughput' in result ? result.throughput.mean * 100 : Number.NaN;
      hitRounds.set(c.name, [...(hitRounds.get(c.name) ?? []), ops]);
    }
  }

  // Stampede: 10k concurrent readers of one cold key; a fresh key per iteration.
  const stampede = new Bench({ name: 'stampede', time: 2_000, iterations: 10, warmup: false });
  const loadsPerStampede = new Map<string, number[]>();
  for (const c of list.filter((c) => !('sync' in c) && !('floor' in c))) {
    let round = 0;
    stampede.add(c.name, async () => {
      const key = `cold-${round++}`;
      const before = c.counter.loads;
      const values = await Promise.all(Array.from({ length: READERS }, () => c.get(key)));
      if (values.some((value) => value === undefined)) throw new Error(`${c.name}: a reader got nothing`);
      const list = loadsPerStampede.get(c.name) ?? [];
      list.push(c.counter.loads - before);
      loadsPerStampede.set(c.name, list);
    });
  }
  await stampede.run();

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const range = (values: number[], f: (n: number) => string) =>
    `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
  const millions = (n: number) => (n / 1e6).toFixed(1);
  const rows: string[] = [
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}, ` +
      `load average ${os.loadavg()[0]?.toFixed(1)} at the end; hit path: ${ROUNDS} rounds × ${TASK_MS} ms per contender`,
    '',
    '| library | hit path, M reads/s, median (min–max) | 10k-reader stampede, ms (mean) | loads per stampede |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const c of list) {
    const s = stampede.getTask(c.name)?.result;
    const stampedeMs = s && 'latency' in s ? fmt(s.latency.mean, 1) : 'n/a (no loader)';
    const loads = loadsPerStampede.get(c.name);
    const loadCell = loads ? fmt(Math.max(...loads)) : '—';
    rows.push(`| ${c.name} | ${range(hitRounds.get(c.name) ?? [], millions)} | ${stampedeMs} | ${loadCell} |`);
  }
  const ratio = (a: string, b: string) => {
    const x = hitRounds.get(a) ?? [];
    const y = hitRounds.get(b) ?? [];
    return range(
      x.map((v, i) => v / (y[i] ?? Number.NaN)),
      (n) => `${n.toFixed(2)}×`,
    );
  };
  rows.push(
    '',
    'Per-round ratios, median (min–max):',
    `- peek() / lru-cache get(): ${ratio('@callbridge/config-cache peek()', 'lru-cache get()')}`,
    `- peek() / bare Map.get(): ${ratio('@callbridge/config-cache peek()', 'Map.get() (bare Map)')}`,
    `- get() / await map.get(): ${ratio('@callbridge/config-cache get()', 'await map.get() (bare Map)')} (reads/s; 1.5× slower = 0.67×)`,
  );
  console.log(`\n${rows.join('\n')}\n`);

  // Single-flight is a correctness property, not a speed one: hold every contender to it.
  for (const [name, loads] of loadsPerStampede) expect(Math.max(...loads), name).toBe(1);
});
