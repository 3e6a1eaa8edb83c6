import { randomBytes } from 'node:crypto';
import { createRetailCrmClient } from '@callbridge/retailcrm-client';
import pg from 'pg';
import type { RetailCrmClientFactory } from '../src/egress/client-factory.js';

/** RetailCRM clients for tests: no retries and no rate limit, so the fake's answers are seen as they are. */
/**
 * An unpaced client without retries, so tests run fast and see every RetailCRM answer as it is. The fakes these tests
 * use are created with `rateLimit: false` for the same reason (the per-key limit has its own tests in the package).
 */
export const testClientFactory: RetailCrmClientFactory = ({ url, apiKey }) =>
  createRetailCrmClient({ url, apiKey, retry: false, rateLimit: false });

/** Creates a throw-away database on the test server and returns its URL plus a dropper. */
export async function createTestDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cb_rs_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const testEnv = {
  ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
  JWT_SECRET: 'jwt-secret-0123456789abcdef0123456789',
  LOG_LEVEL: 'silent',
  PUBLIC_BASE_URL: 'http://pbx.test',
  // The fake RetailCRM servers of the tests listen on 127.0.0.1 (development flag of the SSRF guard).
  RETAILCRM_ALLOW_LOOPBACK: 'true',
};

interface RegisteredModules {
  state: {
    integrationModules: Map<
      string,
      { integrations?: { telephony?: { makeCallUrl?: string; changeUserStatusUrl?: string } } }
    >;
  };
}

/**
 * Path and query of a callback URL the (fake) RetailCRM holds for our module, i.e. exactly what RetailCRM
 * would call, callback secret included (prefix it with the server's URL). `params` are added the way
 * RetailCRM adds its own.
 */
export function registeredCallbackPath(
  fake: RegisteredModules,
  which: 'make-call' | 'status',
  params: Record<string, string> = {},
  moduleCode = 'callbridge-telephony',
): string {
  const telephony = fake.state.integrationModules.get(moduleCode)?.integrations?.telephony;
  const registered = which === 'make-call' ? telephony?.makeCallUrl : telephony?.changeUserStatusUrl;
  if (!registered) throw new Error(`module ${moduleCode} has no ${which} URL registered in the fake RetailCRM`);
  const u = new URL(registered);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return `${u.pathname}${u.search}`;
}

/** The callback secret the (fake) RetailCRM holds for our module. */
export function registeredCallbackSecret(fake: RegisteredModules, moduleCode = 'callbridge-telephony'): string {
  const secret = new URL(registeredCallbackPath(fake, 'make-call', {}, moduleCode), 'http://x').searchParams.get(
    'secret',
  );
  if (!secret) throw new Error('the registered makeCallUrl carries no secret');
  return secret;
}

/** Calls the server and parses the JSON answer (status + body), for end-to-end tests. */
export async function callJson(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected ad hoc in assertions
): Promise<{ status: number; data: Record<string, any> }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}

/** Polls `fn` every 20 ms until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
