import { readFileSync } from 'node:fs';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { createRetailCrmClient, type RetailCrmClient } from '../src/index.js';
import { FAKE_RETAILCRM_URL } from '../src/testing/index.js';
import { useFakeRetailCrm } from './setup.js';

/** One recorded case of an official client's test suite (see test/fixtures/official/README.md). */
interface OfficialCase {
  name: string;
  path: string;
  test: string;
  call: string;
  args: unknown[];
  request: { method: string; path: string; query?: Record<string, string>; form?: Record<string, unknown> };
  response: { status: number; body: unknown; contentType?: string };
  expect: 'ok' | { code: string; status: number; errorMsg?: string };
}

const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/official/${file}`, import.meta.url), 'utf8')) as {
    source: { repo: string };
    cases: OfficialCase[];
  };

const env = useFakeRetailCrm();
const apiKey = 'contract-test-key';

/** `'telephony.callEvent'` -> the bound method of the client. */
function method(client: RetailCrmClient, path: string): (...args: unknown[]) => Promise<unknown> {
  const parts = path.split('.');
  const name = parts.pop() as string;
  const owner = parts.reduce<Record<string, unknown>>(
    (node, key) => node[key] as Record<string, unknown>,
    client as unknown as Record<string, unknown>,
  );
  return (owner[name] as (...args: unknown[]) => Promise<unknown>).bind(owner);
}

describe.each(['php.json', 'go.json', 'python.json'])('official fixtures: %s', (file) => {
  const { source, cases } = load(file);

  it.each(cases.map((item) => [`${item.name} (${source.repo} ${item.path} ${item.test})`, item] as const))(
    '%s',
    async (_title, item) => {
      const seen: { method: string; path: string; query: Record<string, string>; body: string; key: string | null }[] =
        [];
      env.server.use(
        http.all(`${FAKE_RETAILCRM_URL}${item.request.path}`, async ({ request }) => {
          const url = new URL(request.url);
          seen.push({
            method: request.method,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            body: await request.text(),
            key: request.headers.get('x-api-key'),
          });
          const { status, body, contentType } = item.response;
          return typeof body === 'string'
            ? new HttpResponse(body, { status, headers: { 'Content-Type': contentType ?? 'text/html' } })
            : HttpResponse.json(body as Record<string, unknown>, { status });
        }),
      );
      const client = createRetailCrmClient({ url: FAKE_RETAILCRM_URL, apiKey, retry: false, rateLimit: false });
      const outcome = method(client, item.call)(...item.args);

      if (item.expect === 'ok') {
        const result = await outcome;
        // Every field of the official answer reaches the caller (loose schemas), ids and all.
        expect(result).toMatchObject(item.response.body as object);
      } else {
        await expect(outcome).rejects.toMatchObject(item.expect);
      }

      expect(seen).toHaveLength(1);
      const [sent] = seen;
      expect(sent?.method).toBe(item.request.method);
      expect(sent?.path).toBe(item.request.path);
      expect(sent?.key).toBe(apiKey);
      expect(sent?.query).toEqual(item.request.query ?? {});
      if (item.request.form) {
        const form = new URLSearchParams(sent?.body);
        expect([...form.keys()].sort()).toEqual(Object.keys(item.request.form).sort());
        for (const [field, expected] of Object.entries(item.request.form)) {
          // JSON fields compare decoded: key order is the encoder's choice.
          const actual = form.get(field) as string;
          expect(typeof expected === 'object' ? JSON.parse(actual) : actual).toEqual(expected);
        }
      } else {
        expect(sent?.body).toBe('');
      }
    },
  );
});
