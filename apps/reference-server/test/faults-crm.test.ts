import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { hangupEvent, postJson, randomPrefix, uploadsOf } from './support/fixtures.js';
import { getStats, startConfiguredServer } from './support/in-process.js';

const redisUrl = process.env.TEST_REDIS_URL;
const queues = [
  { queue: 'sql', env: {} as Record<string, string> },
  { queue: 'redis', env: redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: randomPrefix() } : {} },
];

describe.each(queues)('RetailCRM down for a while, then back ($queue queue)', ({ queue, env }) => {
  let crm: FakeCrmServer;
  let srv: RunningServer;
  const skip = queue === 'redis' && !redisUrl;

  beforeAll(async () => {
    if (skip) return;
    crm = await startFakeCrmServer();
    srv = await startConfiguredServer(crm, env);
  });
  afterAll(async () => {
    await srv?.close();
    await crm?.close();
  });

  it.skipIf(skip)(
    'opens the breaker (visible in /stats), then delivers every accepted event exactly once',
    async () => {
      const ids = Array.from({ length: 5 }, (_, i) => `down.${queue}.${randomBytes(3).toString('hex')}.${i}`);
      crm.setDown(true);
      for (const id of ids) expect((await postJson(`${srv.url}/api/events`, hangupEvent(id))).status).toBe(202);

      await expect
        .poll(async () => (await getStats(srv.url)).delivery.breakers['0367:retailcrm'], { timeout: 10_000 })
        .toBe('open');
      expect((await getStats(srv.url)).delivery.queue).toBe(queue);
      await expect
        .poll(async () => (await getStats(srv.url)).delivery.queue_stats.failedAttempts, { timeout: 5000 })
        .toBeGreaterThan(0);
      // Stay down a while longer: half-open trial calls fail and the breaker opens again.
      await new Promise((r) => setTimeout(r, 1500));
      expect(crm.refused()).toBeGreaterThan(1);
      expect(crm.fake.state.callEvents).toHaveLength(0);
      // The server keeps answering while the CRM is down.
      expect((await fetch(`${srv.url}/ready`)).status).toBe(200);

      crm.setDown(false);
      for (const id of ids) {
        await expect.poll(() => uploadsOf(crm.fake.state.requests, id), { timeout: 15_000 }).toBe(1);
      }
      await expect
        .poll(async () => (await getStats(srv.url)).delivery.breakers['0367:retailcrm'], { timeout: 5000 })
        .toBe('closed');
      await srv.telephony.pipeline.onIdle();
      for (const id of ids) {
        expect(uploadsOf(crm.fake.state.requests, id)).toBe(1);
        expect(crm.fake.state.callEvents.filter((e) => e.callExternalId === id && e.type === 'hangup')).toHaveLength(1);
      }
      const after = await getStats(srv.url);
      expect(after.telephony.delivered).toBe(ids.length);
      expect(after.telephony.deadLettered).toBe(0);
      expect(after.dead_letters).toBe(0);
    },
  );
});
