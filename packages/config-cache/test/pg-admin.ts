import pg from 'pg';

/** Runs one statement on its own admin connection (`CREATE DATABASE` / `DROP DATABASE` for a test's database). */
export async function onAdmin(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
