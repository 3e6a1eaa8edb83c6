import { describe, expect, it } from 'vitest';
import { scannedPdf, textPdf } from '../../test/support/pdf-fixture.js';
import { CatalogConversionError, parsePrice, pdfToRows, rowsToCsv } from './catalog-convert.js';

describe('catalog conversion', () => {
  it('parses prices written the usual ways and nothing else', () => {
    expect(parsePrice('150')).toBe('150');
    expect(parsePrice('1\u00a0200,50 ₽')).toBe('1200.50');
    expect(parsePrice('99.9 руб.')).toBe('99.9');
    expect(parsePrice('150р.')).toBe('150');
    expect(parsePrice('60 cm')).toBeNull();
    expect(parsePrice('12.345')).toBeNull();
    expect(parsePrice('')).toBeNull();
  });

  it('reads the text layer line by line and keeps priced lines only', async () => {
    const rows = await pdfToRows(textPdf([['Header', 'Rose 150', 'Tulip ... 80 RUB']]));
    expect(rows.map((r) => [r.name, r.price, r.source])).toEqual([
      ['Rose', '150', 'page 1'],
      ['Tulip', '80', 'page 1'],
    ]);
  });

  it('says pdf_no_text_layer for a page made of an image only', async () => {
    const error = await pdfToRows(scannedPdf()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogConversionError);
    expect((error as CatalogConversionError).code).toBe('pdf_no_text_layer');
  });

  it('quotes CSV cells and neutralises formulas', () => {
    expect(rowsToCsv([{ name: '@cmd, "x"', price: null, sku: '-1', description: null, source: 'page 1' }])).toBe(
      `name,price,currency,sku,description,source\n"'@cmd, ""x""",,,'-1,,page 1\n`,
    );
  });
});
