import * as XLSX from '@e965/xlsx';

/**
 * The fixed header of every CSV the hub writes from a PDF or spreadsheet price list (UTF-8, RFC 4180 quoting,
 * `\n` line ends). `price` is a plain decimal with a dot (`1200.50`) or empty; `currency` is `RUB` when a price is
 * present (the seed normalises prices to roubles); `source` says where the row came from (`page 2`, `Sheet1!A7`).
 */
export const CATALOG_CSV_HEADER = ['name', 'price', 'currency', 'sku', 'description', 'source'] as const;

export interface CatalogRow {
  name: string;
  price: string | null;
  sku: string | null;
  description: string | null;
  source: string;
}

/** Stable codes of a failed conversion; they become the job's `error`. */
export type CatalogConversionCode =
  | 'pdf_no_text_layer'
  | 'pdf_unreadable'
  | 'spreadsheet_unreadable'
  | 'no_catalog_rows';

/** A conversion that cannot succeed with this file; `message` tells the uploader what to do instead. */
export class CatalogConversionError extends Error {
  constructor(
    readonly code: CatalogConversionCode,
    message: string,
  ) {
    super(message);
    this.name = 'CatalogConversionError';
  }
}

// ---- prices -----------------------------------------------------------------------------------------------------

const CURRENCY_SUFFIX = /\s*(?:₽|руб\.?|р\.|rub\.?|rur)$/iu;
const PRICE = /^\d+(?:[.,]\d{1,2})?$/;
const CURRENCY_WORD = /^(?:₽|руб\.?|р\.|rub\.?|rur)$/iu;

/** `"1 200,50 ₽"` -> `"1200.50"`; anything that is not a plain price -> null. */
export function parsePrice(raw: string): string | null {
  const compact = raw
    .trim()
    .replace(CURRENCY_SUFFIX, '')
    .replace(/[\s\u00a0\u2009\u202f]/g, '');
  if (!PRICE.test(compact)) return null;
  return compact.replace(',', '.');
}

/** A line's trailing price (last run of text when the PDF has columns, else the last word), and the name before it. */
function splitPricedLine(cells: string[]): { name: string; price: string } | undefined {
  const clean = cells.map((c) => c.trim()).filter((c) => c !== '');
  if (clean.length >= 2) {
    const price = parsePrice(clean[clean.length - 1] as string);
    if (price !== null) return named(clean.slice(0, -1).join(' '), price);
  }
  // One run of text: the last word is the price ("150", "150₽", "1\u00a0200,50"), maybe followed by a currency word.
  const words = clean.join(' ').split(/ +/);
  if (words.length >= 3 && CURRENCY_WORD.test(words[words.length - 1] as string)) words.pop();
  const price = words.length >= 2 ? parsePrice(words.pop() as string) : null;
  return price === null ? undefined : named(words.join(' '), price);
}

function named(rawName: string, price: string): { name: string; price: string } | undefined {
  // Dot leaders and separators between a name and its price ("Rose ........ 150").
  const name = rawName.replace(/[\s.:;–—-]+$/u, '').trim();
  return name === '' || !/\p{L}/u.test(name) ? undefined : { name, price };
}

// ---- PDF --------------------------------------------------------------------------------------------------------

interface PositionedText {
  str: string;
  x: number;
  y: number;
}

/** Groups a page's text runs into lines (same baseline within 2 pt), top to bottom, left to right. */
function toLines(items: PositionedText[]): string[][] {
  const lines: { y: number; cells: PositionedText[] }[] = [];
  for (const item of items) {
    if (item.str.trim() === '') continue;
    const line = lines.find((l) => Math.abs(l.y - item.y) <= 2);
    if (line) line.cells.push(item);
    else lines.push({ y: item.y, cells: [item] });
  }
  return lines.sort((a, b) => b.y - a.y).map((l) => l.cells.sort((a, b) => a.x - b.x).map((c) => c.str));
}

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<PdfJs> | undefined;

/**
 * pdf.js's legacy build, loaded once. Its rendering half wants the browser's DOMMatrix/ImageData/Path2D (or the
 * native `@napi-rs/canvas`, which we do not install) when the module loads; text extraction never uses them, so inert
 * stand-ins are present only while it loads, and its start-up warnings about them are not printed.
 */
function loadPdfJs(): Promise<PdfJs> {
  pdfjs ??= (async () => {
    const g = globalThis as Record<string, unknown>;
    const missing = ['DOMMatrix', 'ImageData', 'Path2D'].filter((name) => g[name] === undefined);
    for (const name of missing) g[name] = class {};
    const { log, warn } = console;
    const quiet =
      (print: (...args: unknown[]) => void) =>
      (...args: unknown[]) => {
        if (!(typeof args[0] === 'string' && args[0].startsWith('Warning: Cannot'))) print(...args);
      };
    console.log = quiet(log);
    console.warn = quiet(warn);
    try {
      return await import('pdfjs-dist/legacy/build/pdf.mjs');
    } finally {
      Object.assign(console, { log, warn });
      for (const name of missing) delete g[name];
    }
  })();
  return pdfjs;
}

/**
 * Extracts priced lines from a PDF's text layer with pdf.js (pure JavaScript; fonts and scripts are never
 * evaluated). A line becomes a row when it ends in a price; headings and notes are dropped.
 */
export async function pdfToRows(data: Uint8Array): Promise<CatalogRow[]> {
  const { getDocument } = await loadPdfJs();
  let doc: Awaited<ReturnType<typeof getDocument>['promise']>;
  try {
    doc = await getDocument({
      data,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    throw new CatalogConversionError(
      'pdf_unreadable',
      `the PDF cannot be opened (${error instanceof Error ? error.name : 'error'}): export it again or upload XLSX/CSV`,
    );
  }
  try {
    const rows: CatalogRow[] = [];
    let anyText = false;
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      const items: PositionedText[] = [];
      for (const item of content.items) {
        if (!('str' in item)) continue;
        if (item.str.trim() !== '') anyText = true;
        items.push({ str: item.str, x: item.transform[4] as number, y: item.transform[5] as number });
      }
      for (const cells of toLines(items)) {
        const priced = splitPricedLine(cells);
        if (priced) rows.push({ ...priced, sku: null, description: null, source: `page ${p}` });
      }
      page.cleanup();
    }
    if (!anyText) {
      throw new CatalogConversionError(
        'pdf_no_text_layer',
        'the PDF has no text layer (a scan or images only): run OCR on it first, or upload the price list as XLSX/CSV',
      );
    }
    return rows;
  } finally {
    await doc.destroy();
  }
}

// ---- spreadsheets -----------------------------------------------------------------------------------------------

type Column = 'name' | 'price' | 'sku' | 'description';
const HEADER_PATTERNS: Record<Column, RegExp> = {
  name: /^(name|наименование|название|товар|продукт|product|item|позиция|title)/iu,
  price: /(price|цена|стоимость|руб|₽|cost)/iu,
  sku: /^(sku|артикул|арт\.?|код|code|art)/iu,
  description: /^(description|описание|comment|комментарий)/iu,
};

const cellText = (v: unknown): string => (v === null || v === undefined ? '' : String(v).trim());

/** Finds a header row in the first rows (a cell that names the product column) and maps the known columns. */
function findHeader(rows: unknown[][]): { index: number; columns: Partial<Record<Column, number>> } | undefined {
  for (let i = 0; i < Math.min(rows.length, 10); i++) {
    const columns: Partial<Record<Column, number>> = {};
    (rows[i] ?? []).forEach((cell, c) => {
      const text = cellText(cell);
      if (text === '') return;
      for (const [col, pattern] of Object.entries(HEADER_PATTERNS) as [Column, RegExp][]) {
        if (columns[col] === undefined && pattern.test(text)) {
          columns[col] = c;
          break;
        }
      }
    });
    if (columns.name !== undefined) return { index: i, columns };
  }
  return undefined;
}

/** Without a header: the first column holding mostly text is the name, the first mostly numeric one the price. */
function guessColumns(rows: unknown[][]): Partial<Record<Column, number>> {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const share = (c: number, test: (t: string) => boolean) => {
    const filled = rows.map((r) => cellText(r[c])).filter((t) => t !== '');
    return filled.length === 0 ? 0 : filled.filter(test).length / filled.length;
  };
  const columns: Partial<Record<Column, number>> = {};
  for (let c = 0; c < width; c++) {
    if (columns.name === undefined && share(c, (t) => /\p{L}/u.test(t)) >= 0.5) columns.name = c;
    else if (columns.price === undefined && share(c, (t) => parsePrice(t) !== null) >= 0.5) columns.price = c;
  }
  return columns;
}

/** Reads the first non-empty sheet of an XLSX or XLS workbook (SheetJS; formulas are read as their cached values). */
export function sheetToRows(data: Uint8Array): CatalogRow[] {
  let workbook: XLSX.WorkBook;
  try {
    workbook = XLSX.read(data, { type: 'array', cellFormula: false, cellHTML: false, dense: true });
  } catch (error) {
    throw new CatalogConversionError(
      'spreadsheet_unreadable',
      `the spreadsheet cannot be read (${error instanceof Error ? error.message.slice(0, 80) : 'error'}): save it again as XLSX`,
    );
  }
  for (const sheetName of workbook.SheetNames) {
    const sheet = workbook.Sheets[sheetName];
    if (!sheet) continue;
    const rows = XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, raw: true, defval: null, blankrows: true });
    if (rows.every((r) => r.every((c) => cellText(c) === ''))) continue;
    const header = findHeader(rows);
    const columns = header?.columns ?? guessColumns(rows);
    if (columns.name === undefined) continue;
    const out: CatalogRow[] = [];
    rows.forEach((row, i) => {
      if (header !== undefined && i <= header.index) return;
      const at = (col: Column) => (columns[col] === undefined ? '' : cellText(row[columns[col] as number]));
      const name = at('name');
      if (name === '') return;
      const rawPrice = columns.price === undefined ? undefined : row[columns.price];
      const price =
        typeof rawPrice === 'number' && Number.isFinite(rawPrice)
          ? String(Math.round(rawPrice * 100) / 100)
          : parsePrice(cellText(rawPrice));
      out.push({
        name,
        price,
        sku: at('sku') || null,
        description: at('description') || null,
        source: `${sheetName}!A${i + 1}`,
      });
    });
    return out;
  }
  return [];
}

// ---- CSV --------------------------------------------------------------------------------------------------------

/** Quotes when needed; a text cell starting like a formula gets a leading `'` (the file may be opened in Excel). */
function csvCell(value: string, text: boolean): string {
  const safe = text && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The CSV text (header + rows) in the fixed {@link CATALOG_CSV_HEADER} layout. */
export function rowsToCsv(rows: readonly CatalogRow[]): string {
  const lines = [CATALOG_CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [
        csvCell(r.name, true),
        csvCell(r.price ?? '', false),
        r.price === null ? '' : 'RUB',
        csvCell(r.sku ?? '', true),
        csvCell(r.description ?? '', true),
        csvCell(r.source, true),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Converts an uploaded price list (`pdf`, `xlsx`, `xls`) to catalog rows; throws CatalogConversionError. */
export async function convertCatalog(type: 'pdf' | 'xlsx' | 'xls', data: Uint8Array): Promise<CatalogRow[]> {
  const rows = type === 'pdf' ? await pdfToRows(data) : sheetToRows(data);
  if (rows.length === 0) {
    throw new CatalogConversionError(
      'no_catalog_rows',
      type === 'pdf'
        ? 'no line of the PDF ends in a price: upload the price list as XLSX/CSV'
        : 'no sheet has a product column (a header such as "name"/"Наименование", or a text column): check the file',
    );
  }
  return rows;
}
