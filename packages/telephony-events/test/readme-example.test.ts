import { fileURLToPath } from 'node:url';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runReadmeSnippet } from '../../../scripts/run-readme-snippet.js';

const ACCOUNT = 'https://readme-example.retailcrm.test';
const API_KEY = 'readme-example-key';

// A RetailCRM that checks what the real one checks for this call: the key header and a form-encoded `event`.
const received: unknown[] = [];
const server = setupServer(
  http.post(`${ACCOUNT}/api/v5/telephony/call/event`, async ({ request }) => {
    if (request.headers.get('x-api-key') !== API_KEY) {
      return HttpResponse.json({ success: false, errorMsg: 'Wrong "apiKey" value.' }, { status: 401 });
    }
    const event = new URLSearchParams(await request.text()).get('event');
    if (!event) return HttpResponse.json({ success: false, errorMsg: 'Parameter "event" is missing' }, { status: 400 });
    received.push(JSON.parse(event));
    return HttpResponse.json({ success: true });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describe('README "30-second example"', () => {
  it('runs as written and delivers the dial to RetailCRM with the user_extensions mapping', async () => {
    vi.stubEnv('RETAILCRM_URL', ACCOUNT);
    vi.stubEnv('RETAILCRM_API_KEY', API_KEY);
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(value));
    try {
      await runReadmeSnippet(fileURLToPath(new URL('../README.md', import.meta.url)), '## 30-second example');
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(printed[0]).toMatchObject({ ok: true, enqueued: ['retailcrm'], duplicates: [] });
    expect(printed[1]).toEqual(['telephony.callEvent: success ']);
    expect(received).toEqual([
      expect.objectContaining({ phone: '+79001234567', type: 'in', codes: ['151'], userIds: [18] }),
    ]);
  });
});
