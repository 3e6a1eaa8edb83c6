import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { type FakeCrmServer, startFakeCrmServer } from './support/fake-crm-server.js';
import { bridgeEvent, postJson } from './support/fixtures.js';
import { startConfiguredServer } from './support/in-process.js';

const bare = (uid: string) => {
  const e = bridgeEvent(uid);
  const { Token: _token, ...payload } = e.payload;
  return { ...e, payload };
};

describe('PBX intake (hot path in front of Express)', () => {
  let crm: FakeCrmServer;
  let srv: RunningServer;
  beforeAll(async () => {
    crm = await startFakeCrmServer();
    srv = await startConfiguredServer(crm);
  }, 90_000);
  afterAll(async () => {
    await srv?.close();
    await crm?.close();
  });

  it('accepts the token from every source and on both paths, with the security headers of the general stack', async () => {
    const counted = async (route: string, status: number) =>
      (await srv.context.metrics.httpRequests.get()).values.find(
        (v) => v.labels.method === 'POST' && v.labels.route === route && v.labels.status === String(status),
      )?.value ?? 0;
    const before = { events: await counted('/api/events', 202), bridge: await counted('/retailcrm/api/events', 202) };
    const beforeRefused = await counted('/api/events', 401);
    const sources: Array<[string, unknown, Record<string, string>]> = [
      ['/api/events', bare('t.1'), { 'x-pbx-token': 'pbx-0367' }],
      ['/api/events', bare('t.2'), { authorization: 'Bearer pbx-0367' }],
      ['/api/events', bare('t.3'), { token: 'pbx-0367' }],
      ['/api/events', { ...bare('t.4'), Token: 'pbx-0367' }, {}],
      ['/retailcrm/api/events', bridgeEvent('t.5'), {}],
    ];
    for (const [path, body, headers] of sources) {
      const r = await postJson(`${srv.url}${path}`, body, headers);
      expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(202);
    }
    const res = await fetch(`${srv.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bridgeEvent('t.6')),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeTruthy();
    expect((await postJson(`${srv.url}/api/events`, bare('t.7'))).status).toBe(401);
    // Counted per route and status, as the general stack labels them.
    expect([await counted('/api/events', 202), await counted('/retailcrm/api/events', 202)]).toEqual([
      before.events + 5,
      before.bridge + 1,
    ]);
    expect(await counted('/api/events', 401)).toBe(beforeRefused + 1);
  });

  it('after an accepted token, a wrong token of the same length (or a prefix of it) is still refused', async () => {
    expect((await postJson(`${srv.url}/api/events`, bridgeEvent('m.1'))).status).toBe(202);
    for (const wrong of ['pbx-0368', 'pbx-036', 'pbx-03677', 'PBX-0367']) {
      expect((await postJson(`${srv.url}/api/events`, bridgeEvent('m.2', wrong))).status, wrong).toBe(401);
    }
    expect((await postJson(`${srv.url}/api/events`, bridgeEvent('m.3'))).status).toBe(202);
  });

  it('a rotated PBX token reaches the cache through NOTIFY: the old one is refused, the new one accepted', async () => {
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367-new' });
    await expect
      .poll(async () => (await postJson(`${srv.url}/api/events`, bridgeEvent('r.1'))).status, { timeout: 5000 })
      .toBe(401);
    expect((await postJson(`${srv.url}/api/events`, bridgeEvent('r.2', 'pbx-0367-new'))).status).toBe(202);
    await srv.storage.upsertEnterprise({ number: '0367', name: 'Shop', pbxToken: 'pbx-0367' });
    await expect
      .poll(async () => (await postJson(`${srv.url}/api/events`, bridgeEvent('r.3'))).status, { timeout: 5000 })
      .toBe(202);
  });

  it('storage down: 503 with Retry-After and a code, never a 500 and never a 202', async () => {
    const sql = srv.storage.sql;
    const query = sql.query;
    (sql as { query: unknown }).query = async (text: string, params?: readonly unknown[]) => {
      if (text.includes('INSERT INTO delivery_outbox')) throw new Error('connection terminated');
      return query.call(sql, text, params);
    };
    try {
      const res = await fetch(`${srv.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...bridgeEvent('d.1'), event_type: 'hangup' }),
      });
      // A bridge is not delivered (nothing to store): a hangup is, and fails here.
      const body = (await res.json()) as { error: string };
      expect([res.status, body.error]).toEqual([503, 'queue_unavailable']);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      (sql as { query: unknown }).query = query;
    }
  });
});
