import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
};
