import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadFixturePrices } from '../../../test-site/dataset.js';
import { NonRetryableError } from '../errors.js';
import { columnIndexes, normalizeDate, parseNumber, toRow } from './cells.js';
import { parseCsvRecords } from './csv-http.adapter.js';

const columns = { date: '日付', open: '始値', high: '高値', low: '安値', close: '終値', volume: '出来高' };

describe('cells', () => {
  it('normalises the date forms price sites use', () => {
    expect(normalizeDate('2017/1/4')).toBe('2017-01-04');
    expect(normalizeDate(' 2017.01.04 ')).toBe('2017-01-04');
    expect(normalizeDate('2017-01-04')).toBe('2017-01-04');
    expect(normalizeDate('04/01/2017')).toBe('04/01/2017');
  });

  it('reads thousands separators and treats dashes as missing', () => {
    expect(parseNumber('1,234,567')).toBe(1234567);
    expect(parseNumber('12.5')).toBe(12.5);
    expect(parseNumber('-')).toBeNaN();
    expect(parseNumber('')).toBeNaN();
    expect(parseNumber('abc')).toBeNaN();
  });

  it('maps headers by name in any order, NFKC- and case-insensitively', () => {
    const idx = columnIndexes(['出来高', '日付', '終値', '安値', '高値', '始値'], columns, 'test');
    expect(toRow(['1,000', '2017/01/04', '10', '9', '11', '9.5'], idx)).toEqual({
      date: '2017-01-04',
      open: 9.5,
      high: 11,
      low: 9,
      close: 10,
      volume: 1000,
    });
    expect(() => columnIndexes(['Date', 'Open'], columns, 'test')).toThrow(NonRetryableError);
    expect(() => columnIndexes(['Date', 'Open'], columns, 'test')).toThrow(
      /layout changed: test has no column date/,
    );
  });
});

describe('parseCsvRecords', () => {
  it('gives what csv-parse gives on plain price CSVs (fast path)', () => {
    const rows = loadFixturePrices().get('KO')!;
    const text = `\uFEFFDate,Open,High,Low,Close,Volume\r\n${rows.map((r) => `${r.date},${r.open},${r.high},${r.low},${r.close},${r.volume}`).join('\r\n')}\r\n\r\n`;
    expect(parseCsvRecords(text, ',')).toEqual(
      parse(text, { bom: true, skip_empty_lines: true, trim: true }),
    );
  });

  it('falls back to the full parser for quoted cells', () => {
    expect(parseCsvRecords('Date,Volume\n2017-01-04,"1,000"\n', ',')).toEqual([
      ['Date', 'Volume'],
      ['2017-01-04', '1,000'],
    ]);
  });
});
