import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { CATALOG_CSV_HEADER } from '../src/messenger/catalog-convert.js';
import { type RunningServer, startServer } from '../src/server.js';
import { testEnv } from './helpers.js';
import { scannedPdf, textPdf } from './support/pdf-fixture.js';

const PUBLIC_KEY = 'public-key-catalog-0123456789';
const MAX = 64 * 1024;
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
}, 120_000);

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
/** Waits until the upload's job reaches `state` and returns the job body. */
async function waitJob(
  upload: { data: Record<string, unknown> },
  tenant: string,
  state: 'done' | 'failed' = 'done',
): Promise<Record<string, unknown>> {
  const path = `/pub/catalog/jobs/${upload.data.job_id as string}?${q(tenant)}`;
  await vi.waitFor(async () => expect((await get(path)).data.state).toBe(state), { timeout: 10_000 });
  return (await get(path)).data;
}

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

  it('accepts the legacy `catalog` field; a file that is not a PDF fails its job with pdf_unreadable', async () => {
    await waitJob(await upload(q('5'), { name: 'ok.csv', content: 'sku,name\n1,Rose\n' }), '5');
    const r = await upload(q('5'), {
      name: 'price.PDF',
      content: '%PDF-1.4 fake',
      type: 'application/pdf',
      field: 'catalog',
    });
    expect(r.status).toBe(200);
    const job = await waitJob(r, '5', 'failed');
    expect(job).toMatchObject({ state: 'failed', error: 'pdf_unreadable', type: 'pdf', csv_path: null });
    expect(job.error_message).toMatch(/upload XLSX\/CSV/);
    // The previous catalog stays published.
    const cfg = (await get(`/pub/settings/get?${q('5')}`)).data.cfg as { integrations: Record<string, unknown> };
    expect(cfg.integrations.uploaded_catalog).toMatchObject({ type: 'csv', original: 'ok.csv' });
  });
});

describe('catalog conversion to CSV', () => {
  const header = CATALOG_CSV_HEADER.join(',');
  const settingsCatalog = async (tenant: string) =>
    (
      (await get(`/pub/settings/get?${q(tenant)}`)).data.cfg as {
        integrations: Record<string, Record<string, unknown>>;
      }
    ).integrations.uploaded_catalog;

  it('turns a text PDF into catalogs/<base>.csv with the fixed header, moving the job through its states', async () => {
    const pdf = textPdf([
      ['Price list (spring)', 'Rose red 60 cm ........ 150.00', 'Tulip (yellow)   80 RUB'],
      ['Peony "Sarah" - 1200,50', '=HYPERLINK("x") 10', 'Delivery is free'],
    ]);
    const r = await upload(q('7'), { name: 'Прайс.pdf', content: pdf, type: 'application/pdf' });
    expect(r).toMatchObject({ status: 200, data: { ok: true, state: 'queued' } });
    const job = await waitJob(r, '7');
    const csvPath = join(dataDir, 'tenants', '7', 'catalogs', 'Прайс.csv');
    expect(job).toMatchObject({
      state: 'done',
      error: null,
      type: 'pdf',
      pipeline: 'pdfjs',
      csv_path: csvPath,
      rows: 4,
    });
    expect(readFileSync(csvPath, 'utf8')).toBe(
      [
        header,
        'Rose red 60 cm,150.00,RUB,,,page 1',
        'Tulip (yellow),80,RUB,,,page 1',
        '"Peony ""Sarah""",1200.50,RUB,,,page 2',
        // A formula-looking name is neutralised for spreadsheet programs.
        `"'=HYPERLINK(""x"")",10,RUB,,,page 2`,
        '',
      ].join('\n'),
    );
    expect(await settingsCatalog('7')).toMatchObject({
      type: 'pdf',
      mime: 'application/pdf',
      csv_path: csvPath,
      pipeline: 'pdfjs',
      index: { rows: 4, columns: [...CATALOG_CSV_HEADER] },
      job_id: r.data.job_id,
    });
  });

  it('fails a scanned PDF (no text layer) with pdf_no_text_layer and writes no CSV', async () => {
    const r = await upload(q('8'), { name: 'scan.pdf', content: scannedPdf(), type: 'application/pdf' });
    const job = await waitJob(r, '8', 'failed');
    expect(job).toMatchObject({ state: 'failed', error: 'pdf_no_text_layer', pipeline: 'pdfjs', csv_path: null });
    expect(job.error_message).toMatch(/OCR/);
    expect(existsSync(join(dataDir, 'tenants', '8', 'catalogs', 'scan.csv'))).toBe(false);
    expect(await settingsCatalog('8')).toBeUndefined();
    // A PDF with text but no prices is refused as well, with its own code.
    const plain = await upload(q('8'), { name: 'letter.pdf', content: textPdf([['Dear customer', 'See you']]) });
    expect(await waitJob(plain, '8', 'failed')).toMatchObject({ error: 'no_catalog_rows' });
  });

  it('reads XLSX by its header row (Russian or English names) and XLS without a header', async () => {
    const sheet = XLSX.utils.aoa_to_sheet([
      ['Прайс-лист'],
      [],
      ['Артикул', 'Наименование', 'Описание', 'Цена, ₽'],
      ['R-60', 'Роза красная', '60 см', 150],
      ['T-1', 'Тюльпан', null, '1 200,50'],
      [null, null, null, null],
      ['X', 'Упаковка', 'бесплатно', null],
    ]);
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, 'Цены');
    const xlsx = XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    const r = await upload(q('9'), {
      name: 'prices.xlsx',
      content: new Uint8Array(xlsx),
      type: 'application/octet-stream',
    });
    const job = await waitJob(r, '9');
    expect(job).toMatchObject({ state: 'done', type: 'xlsx', pipeline: 'sheetjs', rows: 3 });
    expect(readFileSync(job.csv_path as string, 'utf8')).toBe(
      [
        header,
        'Роза красная,150,RUB,R-60,60 см,Цены!A4',
        'Тюльпан,1200.50,RUB,T-1,,Цены!A5',
        'Упаковка,,,X,бесплатно,Цены!A7',
        '',
      ].join('\n'),
    );
    expect((await settingsCatalog('9'))?.mime).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );

    const noHeader = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(
      noHeader,
      XLSX.utils.aoa_to_sheet([
        ['Rose', 150],
        ['Tulip', 80.5],
      ]),
      'Sheet1',
    );
    const xls = XLSX.write(noHeader, { type: 'buffer', bookType: 'biff8' }) as Buffer;
    const legacy = await waitJob(await upload(q('9'), { name: 'old.xls', content: new Uint8Array(xls) }), '9');
    expect(legacy).toMatchObject({ state: 'done', type: 'xls', pipeline: 'sheetjs', rows: 2 });
    expect(readFileSync(legacy.csv_path as string, 'utf8')).toBe(
      `${header}\nRose,150,RUB,,,Sheet1!A1\nTulip,80.5,RUB,,,Sheet1!A2\n`,
    );
  });

  it('fails a broken spreadsheet with a clear code', async () => {
    const r = await upload(q('9'), { name: 'broken.xlsx', content: new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]) });
    const job = await waitJob(r, '9', 'failed');
    expect(['spreadsheet_unreadable', 'no_catalog_rows']).toContain(job.error);
    expect(job.error_message).toEqual(expect.any(String));
    expect((await get('/health')).status).toBe(200);
  });
});
