/**
 * Hit path and a 10k-reader stampede: @callbridge/config-cache vs lru-cache, async-cache-dedupe
 * and bentocache, in one run. `pnpm --filter @callbridge/config-cache bench`
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

  return [
    { name: '@callbridge/config-cache get()', counter: ours.counter, get: (key: string) => configCache.get(key) },
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
    { name: 'lru-cache get()', counter: lru.counter, get: (key: string) => lruCache.get(key), sync: true },
  ];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

it('benchmark', async () => {
  const list = contenders();
  for (const c of list) for (const key of HOT_KEYS) await c.get(key);

  const hit = new Bench({ name: 'hit path', time: 1_500, warmup: true, warmupTime: 300 });
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

  // Stampede: 10k concurrent readers of one cold key; a fresh key per iteration.
  const stampede = new Bench({ name: 'stampede', time: 2_000, iterations: 10, warmup: false });
  const loadsPerStampede = new Map<string, number[]>();
  for (const c of list.slice(0, 4)) {
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

  const rows: string[] = [
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}`,
    '',
    '| library | hit path, reads/s (warm key) | 10k-reader stampede, ms (mean) | loads per stampede |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const c of list) {
    const h = hit.getTask(c.name)?.result;
    const s = stampede.getTask(c.name)?.result;
    const hitOps = h && 'throughput' in h ? h.throughput.mean * 100 : Number.NaN;
    const stampedeMs = s && 'latency' in s ? fmt(s.latency.mean, 1) : 'n/a (sync read, no loader)';
    const loads = loadsPerStampede.get(c.name);
    const loadCell = loads ? fmt(Math.max(...loads)) : '—';
    rows.push(`| ${c.name} | ${fmt(hitOps)} | ${stampedeMs} | ${loadCell} |`);
  }
  console.log(`\n${rows.join('\n')}\n`);

  // Single-flight is a correctness property, not a speed one: hold every contender to it.
  for (const [name, loads] of loadsPerStampede) expect(Math.max(...loads), name).toBe(1);
});
