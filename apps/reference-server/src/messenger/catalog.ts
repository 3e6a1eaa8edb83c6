import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { CATALOG_CSV_HEADER, CatalogConversionError, convertCatalog, rowsToCsv } from './catalog-convert.js';
import type { MessengerStore } from './store.js';

export const CATALOG_EXTENSIONS = ['.pdf', '.csv', '.xlsx', '.xls'] as const;
/** Multipart field names: the seed's `file`, and `catalog` for older front ends. */
const FILE_FIELDS = new Set(['file', 'catalog']);

export type UploadOutcome =
  | { status: 200; body: { ok: true; job_id: string; state: 'queued' } }
  | { status: 400 | 422; body: Record<string, unknown> };

const fail = (status: 400 | 422, error: string, extra: Record<string, unknown> = {}): UploadOutcome => ({
  status,
  body: { ok: false, error, ...extra },
});

/** `report.final.PDF` -> `report.final`, safe for a path component. */
function safeBase(filename: string): string {
  const base = filename.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const cleaned = base.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '');
  return (cleaned || 'catalog').slice(0, 100);
}

function extensionOf(filename: string): string {
  const m = /\.[^.\\/]+$/.exec(filename.trim());
  return m ? m[0].toLowerCase() : '';
}

/** `pipeline` recorded per source type. */
const PIPELINES = { csv: 'csv', pdf: 'pdfjs', xlsx: 'sheetjs', xls: 'sheetjs' } as const;

const MIME: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.csv': 'text/csv',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.xls': 'application/vnd.ms-excel',
};

export interface CatalogUploads {
  /** Streams the multipart body to disk (size-limited) and queues the job. */
  upload(req: Request, tenant: number): Promise<UploadOutcome>;
  /** Resolves when every queued job has finished (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * `POST /pub/catalog/upload`: the file goes to `<DATA_DIR>/tenants/<T>/uploads/`, a job row tracks it, and the
 * background step fills `integrations.uploaded_catalog`. CSV is used as-is; PDF (pdf.js text layer) and XLSX/XLS
 * (SheetJS) become `catalogs/<base>.csv` in the fixed CATALOG_CSV_HEADER layout. Job states:
 * `queued -> processing -> done | failed` (`error` = a CatalogConversionCode, or `processing_failed`).
 */
export function createCatalogUploads(deps: {
  store: MessengerStore;
  dataDir: string;
  maxBytes: number;
  logger: Logger;
  now?: () => Date;
}): CatalogUploads {
  const now = deps.now ?? (() => new Date());
  const running = new Set<Promise<void>>();

  async function process(jobId: string, tenant: number, file: Record<string, unknown>): Promise<void> {
    try {
      await deps.store.updateJob(jobId, 'processing', {});
      const dir = join(deps.dataDir, 'tenants', String(tenant), 'catalogs');
      await mkdir(dir, { recursive: true });
      const csvPath = join(dir, `${file.base as string}.csv`);
      const type = file.type as 'csv' | 'pdf' | 'xlsx' | 'xls';
      let rows: number;
      if (type === 'csv') {
        await copyFile(file.path as string, csvPath);
        const text = await readFile(csvPath, 'utf8');
        rows = Math.max(0, text.split(/\r?\n/).filter((l) => l.trim() !== '').length - 1);
      } else {
        const converted = await convertCatalog(type, new Uint8Array(await readFile(file.path as string)));
        // Written aside and renamed, so a reader never sees half a CSV.
        const tmp = `${csvPath}.${randomUUID()}.part`;
        await writeFile(tmp, rowsToCsv(converted), 'utf8');
        await rename(tmp, csvPath);
        rows = converted.length;
      }
      const pipelineName = PIPELINES[type];
      const index = { rows, ...(type === 'csv' ? {} : { columns: [...CATALOG_CSV_HEADER] }) };
      const catalog = {
        path: file.path,
        original: file.original,
        uploaded_at: file.uploaded_at,
        type: file.type,
        size: file.size,
        mime: file.mime,
        csv_path: csvPath,
        pipeline: pipelineName,
        index,
        job_id: jobId,
      };
      await deps.store.setIntegration(tenant, 'uploaded_catalog', catalog);
      await deps.store.updateJob(jobId, 'done', { csv_path: csvPath, pipeline: pipelineName, index });
    } catch (err) {
      if (err instanceof CatalogConversionError) {
        // The file, not the server: the job says why; the tenant's previous catalog stays published.
        deps.logger.warn({ jobId, tenant, code: err.code }, 'catalog conversion failed');
        await deps.store
          .updateJob(jobId, 'failed', { error_message: err.message, pipeline: PIPELINES[file.type as 'pdf'] }, err.code)
          .catch(() => undefined);
        return;
      }
      deps.logger.error({ err, jobId, tenant }, 'catalog job failed');
      await deps.store.updateJob(jobId, 'failed', {}, 'processing_failed').catch(() => undefined);
    }
  }

  return {
    upload(req, tenant) {
      const type = req.headers['content-type'] ?? '';
      if (!/^multipart\/form-data/i.test(type)) {
        return Promise.resolve(fail(422, 'invalid_payload', { reason: 'missing_file' }));
      }
      const declared = Number(req.headers['content-length']);
      // Refuse at once what cannot fit (multipart overhead is small); smaller lies are caught while streaming.
      if (Number.isFinite(declared) && declared > deps.maxBytes + 64 * 1024) {
        req.resume();
        return Promise.resolve(fail(400, 'file_too_large', { max_size_bytes: deps.maxBytes }));
      }
      return new Promise<UploadOutcome>((resolve, reject) => {
        let outcome: UploadOutcome | undefined;
        let saved: Promise<Record<string, unknown> | undefined> | undefined;
        const settle = (o: UploadOutcome) => {
          outcome ??= o;
        };
        let bb: busboy.Busboy;
        try {
          // utf8: browsers send non-ASCII file names raw; busboy would read them as latin1.
          bb = busboy({
            headers: req.headers,
            defParamCharset: 'utf8',
            limits: { fileSize: deps.maxBytes + 1, files: 1, fields: 20, parts: 25 },
          });
        } catch {
          resolve(fail(422, 'invalid_payload', { reason: 'missing_file' }));
          return;
        }
        bb.on('file', (field, stream: Readable & { truncated?: boolean }, info) => {
          // A truncated body errors this stream while `mkdir` is still awaited: without a listener that ends the
          // process. The failure itself is reported through busboy's own 'error' below.
          stream.on('error', () => undefined);
          if (!FILE_FIELDS.has(field) || saved !== undefined) {
            stream.resume();
            return;
          }
          const ext = extensionOf(info.filename ?? '');
          if (!(CATALOG_EXTENSIONS as readonly string[]).includes(ext)) {
            settle(fail(400, 'unsupported_type'));
            stream.resume();
            saved = Promise.resolve(undefined);
            return;
          }
          saved = (async () => {
            const base = safeBase(info.filename ?? '');
            const dir = join(deps.dataDir, 'tenants', String(tenant), 'uploads');
            await mkdir(dir, { recursive: true });
            const target = join(dir, `${base}${ext}`);
            const tmp = `${target}.${randomUUID()}.part`;
            let tooLarge = false;
            stream.on('limit', () => {
              tooLarge = true;
            });
            try {
              await pipeline(stream, createWriteStream(tmp));
              const size = (await stat(tmp)).size;
              // The parser stops one byte past the limit, so a file of exactly maxBytes passes.
              if (tooLarge || stream.truncated || size > deps.maxBytes) {
                settle(fail(400, 'file_too_large', { max_size_bytes: deps.maxBytes }));
                await rm(tmp, { force: true });
                return undefined;
              }
              if (size === 0) {
                settle(fail(400, 'empty_file'));
                await rm(tmp, { force: true });
                return undefined;
              }
              await rename(tmp, target);
              return {
                path: target,
                base,
                original: info.filename,
                uploaded_at: now().toISOString(),
                type: ext.slice(1),
                size,
                mime: info.mimeType && info.mimeType !== 'application/octet-stream' ? info.mimeType : MIME[ext],
              };
            } catch (err) {
              await rm(tmp, { force: true }).catch(() => undefined);
              throw err;
            }
          })();
        });
        bb.on('error', () => {
          settle(fail(422, 'invalid_payload', { reason: 'missing_file' }));
          // The half-written file fails too; its rejection is expected (the tmp file is already removed).
          saved?.catch(() => undefined);
          req.unpipe(bb);
          req.resume();
          resolve(outcome as UploadOutcome);
        });
        bb.on('close', async () => {
          try {
            const file = saved ? await saved : undefined;
            if (outcome !== undefined) return resolve(outcome);
            if (file === undefined) return resolve(fail(422, 'invalid_payload', { reason: 'missing_file' }));
            const jobId = randomUUID();
            await deps.store.createJob(jobId, tenant, file);
            const job = process(jobId, tenant, file);
            running.add(job);
            void job.finally(() => running.delete(job));
            resolve({ status: 200, body: { ok: true, job_id: jobId, state: 'queued' } });
          } catch (err) {
            // Disk or database failure: a server error, not the client's fault.
            reject(err);
          }
        });
        req.on('error', () => bb.destroy(new Error('request aborted')));
        req.pipe(bb);
      });
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
