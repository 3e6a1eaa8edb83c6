import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { hangupEvent, postJson, randomPrefix, uploadsOf } from './support/fixtures.js';
import { getStats, startConfiguredServer } from './support/in-process.js';
import { type OwnRedis, startOwnRedis } from './support/redis-server.js';

const hasRedisServer = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Under CI a missing redis-server fails the test instead of skipping it.
const isCi = process.env.CI === 'true' || process.env.CI === '1';

describe.skipIf(!hasRedisServer && !isCi)('Redis restarted under the server (own redis-server, AOF)', () => {
  let redis: OwnRedis;
  let crm: FakeCrmServer;
  let srv: RunningServer;

  beforeAll(async () => {
    [redis, crm] = await Promise.all([startOwnRedis(), startFakeCrmServer()]);
    srv = await startConfiguredServer(crm, { REDIS_URL: redis.url, REDIS_PREFIX: randomPrefix() });
  });
  afterAll(async () => {
    await srv?.close();
    await crm?.close();
    await redis?.close();
  });

  it('recovers; events accepted before, during and after the restart are each delivered once', async () => {
    const hangupsOf = (id: string) =>
      crm.fake.state.callEvents.filter((e) => e.callExternalId === id && e.type === 'hangup').length;
    // CRM down first, so the first event is still waiting in Redis (retry scheduled) when Redis dies.
    crm.setDown(true);
    expect((await postJson(`${srv.url}/api/events`, hangupEvent('redis.before'))).status).toBe(202);
    await expect.poll(() => crm.refused(), { timeout: 5000 }).toBeGreaterThan(0);

    await redis.kill();
    // Sent while Redis is gone: either held until Redis is back and then accepted (202), or refused with
    // 503 queue_unavailable so the PBX retries. Never accepted and lost.
    const during = postJson(`${srv.url}/api/events`, hangupEvent('redis.during'));
    await new Promise((r) => setTimeout(r, 500));
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    await redis.start();

    let duringResult = await during;
    if (duringResult.status === 503) {
      expect(duringResult.data.error).toBe('queue_unavailable');
      duringResult = await postJson(`${srv.url}/api/events`, hangupEvent('redis.during'));
    }
    expect(duringResult.status).toBe(202);
    expect((await postJson(`${srv.url}/api/events`, hangupEvent('redis.after'))).status).toBe(202);
    crm.setDown(false);

    for (const id of ['redis.before', 'redis.during', 'redis.after']) {
      await expect.poll(() => uploadsOf(crm.fake.state.requests, id), { timeout: 20_000 }).toBe(1);
    }
    await srv.telephony.pipeline.onIdle();
    for (const id of ['redis.before', 'redis.during', 'redis.after']) {
      expect(uploadsOf(crm.fake.state.requests, id)).toBe(1);
      expect(hangupsOf(id)).toBe(1);
    }
    expect((await fetch(`${srv.url}/ready`)).status).toBe(200);
    expect((await getStats(srv.url)).telephony.deadLettered).toBe(0);
  });
});
