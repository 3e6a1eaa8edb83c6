import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testEnv } from './helpers.js';

const PUBLIC_KEY = 'public-key-catalog-0123456789';
const MAX = 2048;
const dataDir = mkdtempSync(join(tmpdir(), 'cb-catalog-'));
let srv: RunningServer;

beforeAll(async () => {
  srv = await startServer({
    config: loadConfig({
      ...testEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_KEY,
      MAX_UPLOAD_SIZE_BYTES: String(MAX),
    }),
    logger: createLogger('silent'),
    inMemory: true,
  });
});

afterAll(async () => {
  await srv?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function upload(
  query: string,
  file?: { name: string; content: string | Uint8Array; type?: string; field?: string },
): Promise<{ status: number; data: Record<string, unknown> }> {
  const form = new FormData();
  form.append('note', 'hello');
  if (file) {
    form.append(file.field ?? 'file', new Blob([file.content], { type: file.type ?? 'text/csv' }), file.name);
  }
  const res = await fetch(`${srv.url}/pub/catalog/upload?${query}`, { method: 'POST', body: form });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}
const q = (tenant = '1') => `k=${PUBLIC_KEY}&tenant=${tenant}`;
const get = async (path: string) => {
  const res = await fetch(srv.url + path);
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
};

describe('POST /pub/catalog/upload', () => {
  it("answers the seed's error bodies", async () => {
    const csv = { name: 'a.csv', content: 'sku,name\n1,Rose\n' };
    expect(await upload('tenant=1', csv)).toEqual({ status: 401, data: { detail: 'invalid_key' } });
    expect(await upload(`k=wrong&tenant=1`, csv)).toEqual({ status: 401, data: { detail: 'invalid_key' } });
    expect(await upload(q('abc'), csv)).toEqual({
      status: 422,
      data: { ok: false, error: 'invalid_payload', reason: 'invalid_tenant' },
    });
    expect(await upload(q())).toEqual({
      status: 422,
      data: { ok: false, error: 'invalid_payload', reason: 'missing_file' },
    });
    expect((await upload(q(), { ...csv, field: 'other' })).data.reason).toBe('missing_file');
    const json = await fetch(`${srv.url}/pub/catalog/upload?${q()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(422);
    expect(await upload(q(), { name: 'notes.txt', content: 'x' })).toEqual({
      status: 400,
      data: { ok: false, error: 'unsupported_type' },
    });
    expect(await upload(q(), { name: 'noext', content: 'x' })).toMatchObject({ status: 400 });
    expect(await upload(q(), { name: 'empty.csv', content: '' })).toEqual({
      status: 400,
      data: { ok: false, error: 'empty_file' },
    });
  });

  it('refuses files over MAX_UPLOAD_SIZE_BYTES (streamed and declared) and keeps serving', async () => {
    const streamed = await upload(q(), { name: 'big.csv', content: 'x'.repeat(MAX + 1) });
    expect(streamed).toEqual({ status: 400, data: { ok: false, error: 'file_too_large', max_size_bytes: MAX } });
    const huge = await upload(q(), { name: 'huge.pdf', content: new Uint8Array(200 * 1024), type: 'application/pdf' });
    expect(huge).toEqual({ status: 400, data: { ok: false, error: 'file_too_large', max_size_bytes: MAX } });
    // Exactly at the limit is fine.
    expect((await upload(q(), { name: 'edge.csv', content: 'y'.repeat(MAX) })).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
    // Nothing half-written is left behind.
    expect(existsSync(join(dataDir, 'tenants', '1', 'uploads', 'big.csv'))).toBe(false);
  });

  it('stores a CSV, runs the job and publishes it in /pub/settings/get', async () => {
    const before = await get(`/pub/settings/get?${q('5')}`);
    expect(before.data).toEqual({ ok: true, cfg: { tenant: 5, integrations: {} } });
    const csv = 'sku,name,price\n1,Rose,100\n2,Tulip,80\n';
    const r = await upload(q('5'), { name: '../../Каталог весна.csv', content: csv });
    expect(r).toMatchObject({ status: 200, data: { ok: true, state: 'queued' } });
    const jobId = r.data.job_id as string;
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(async () => expect((await get(`/pub/catalog/jobs/${jobId}?${q('5')}`)).data.state).toBe('done'));
    const job = await get(`/pub/catalog/status?job_id=${jobId}&${q('5')}`);
    expect(job.data).toMatchObject({
      ok: true,
      job_id: jobId,
      state: 'done',
      type: 'csv',
      pipeline: 'csv',
      size: Buffer.byteLength(csv),
    });
    expect((await get(`/pub/catalog/jobs/${jobId}?${q('6')}`)).status).toBe(404);

    const cfg = (await get(`/pub/settings/get?${q('5')}`)).data.cfg as { integrations: Record<string, unknown> };
    const catalog = cfg.integrations.uploaded_catalog as Record<string, unknown>;
    expect(catalog).toMatchObject({
      original: 'Каталог весна.csv', // the directory part is dropped
      type: 'csv',
      size: Buffer.byteLength(csv),
      mime: 'text/csv',
      pipeline: 'csv',
      index: { rows: 2 },
    });
    // The path stays inside the tenant's directory whatever the client named the file.
    expect(catalog.path).toBe(join(dataDir, 'tenants', '5', 'uploads', 'Каталог_весна.csv'));
    expect(catalog.csv_path).toBe(join(dataDir, 'tenants', '5', 'catalogs', 'Каталог_весна.csv'));
    expect(readFileSync(catalog.csv_path as string, 'utf8')).toBe(csv);
  });

  it('accepts the legacy `catalog` field; PDF is stored and recorded without a CSV', async () => {
    const r = await upload(q('5'), {
      name: 'price.PDF',
      content: '%PDF-1.4 fake',
      type: 'application/pdf',
      field: 'catalog',
    });
    expect(r.status).toBe(200);
    await srv.messenger.catalog.idle();
    const cfg = (await get(`/pub/settings/get?${q('5')}`)).data.cfg as { integrations: Record<string, unknown> };
    expect(cfg.integrations.uploaded_catalog).toMatchObject({
      type: 'pdf',
      mime: 'application/pdf',
      csv_path: null,
      pipeline: 'stored',
      job_id: r.data.job_id,
    });
  });
});
