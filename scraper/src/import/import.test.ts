import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { entityPath, listCatalog, readEntity } from '../store/index.js';
import { importFile } from './index.js';
import { FIXTURES, silentLogger, tempDir } from '../../test/helpers.js';

const SUBSET = join(FIXTURES, 'sp500-subset.csv.gz');
const BAD = join(FIXTURES, 'bad-rows.csv');
const NOW = new Date('2026-01-15T00:00:00Z');

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function newDir(): string {
  const t = tempDir('resemble-import-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const opts = (dataDir: string) => ({ dataDir, logger: silentLogger, progress: false, now: NOW });

/** The slow, obvious reading of the fixture: csv-parse with named columns, grouped by ticker. */
function expectedByTicker(): Map<
  string,
  { date: string; open: number; high: number; low: number; close: number; volume: number }[]
> {
  const records = parse(gunzipSync(readFileSync(SUBSET)), { columns: true }) as Record<string, string>[];
  const out = new Map<
    string,
    { date: string; open: number; high: number; low: number; close: number; volume: number }[]
  >();
  for (const r of records) {
    const rows = out.get(r.ticker) ?? [];
    rows.push({
      date: r.date,
      open: Number(r.open),
      high: Number(r.high),
      low: Number(r.low),
      close: Number(r.close),
      volume: Number(r.volume),
    });
    out.set(r.ticker, rows);
  }
  return out;
}

describe('importing real prices', () => {
  it('stores exactly the rows and values of the source file, per ticker', async () => {
    const dir = newDir();
    const summary = await importFile(SUBSET, { ...opts(dir), market: 'US', currency: 'USD' });
    const expected = expectedByTicker();
    expect(summary).toMatchObject({
      kind: 'csv.gz',
      entities: 4,
      entitiesChanged: 4,
      rowsRead: 3821,
      rowsAdded: 3821,
      rowsRejected: 0,
    });
    expect(listCatalog(dir).map((e) => [e.code, e.row_count, e.market, e.currency])).toEqual([
      ['AAPL', 1259, 'US', 'USD'],
      ['APTV', 44, 'US', 'USD'],
      ['BRK-B', 1259, 'US', 'USD'],
      ['FB', 1259, 'US', 'USD'],
    ]);
    for (const [ticker, rows] of expected) expect(readEntity(dir, ticker)).toEqual(rows);
  });

  it('gives the same result when the CSV is parsed on a worker thread (the path for big files)', async () => {
    const inline = newDir();
    const parallel = newDir();
    const a = await importFile(SUBSET, { ...opts(inline), parallel: false });
    const b = await importFile(SUBSET, { ...opts(parallel), parallel: true });
    expect({ ...b, durationMs: 0, file: '' }).toEqual({ ...a, durationMs: 0, file: '' });
    for (const e of listCatalog(inline))
      expect(readEntity(parallel, e.code)).toEqual(readEntity(inline, e.code));
    const bad = await importFile(BAD, { ...opts(parallel), parallel: true });
    const badInline = await importFile(BAD, { ...opts(inline), parallel: false });
    expect(bad.rejectedByReason).toEqual(badInline.rejectedByReason);
    expect(bad.rejectedSamples).toEqual(badInline.rejectedSamples);
    const missing = join(parallel, 'cols.csv');
    writeFileSync(missing, 'ticker,date\nA,2024-01-01\n');
    await expect(importFile(missing, { ...opts(parallel), parallel: true })).rejects.toThrow(
      /missing required column\(s\) open/,
    );
  });

  it('re-importing the same file (or its plain CSV) is a no-op: same data version, same files', async () => {
    const dir = newDir();
    const first = await importFile(SUBSET, { ...opts(dir), market: 'US', currency: 'USD' });
    const hashes = listCatalog(dir).map((e) =>
      createHash('sha256')
        .update(readFileSync(entityPath(dir, e.code)))
        .digest('hex'),
    );
    const again = await importFile(SUBSET, { ...opts(dir), market: 'US', currency: 'USD' });
    expect(again).toMatchObject({
      entities: 4,
      entitiesChanged: 0,
      rowsAdded: 0,
      rowsUpdated: 0,
      rowsUnchanged: 3821,
    });
    expect(again.dataVersionAfter).toBe(first.dataVersionAfter);
    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, gunzipSync(readFileSync(SUBSET)));
    const third = await importFile(plain, opts(dir));
    expect(third).toMatchObject({ kind: 'csv', entitiesChanged: 0, rowsAdded: 0 });
    expect(third.dataVersionAfter).toBe(first.dataVersionAfter);
    expect(listCatalog(dir).map((e) => e.sha256)).toEqual(hashes);
  });

  it('gives the same store for a file not grouped by ticker (rows sorted by date)', async () => {
    const grouped = newDir();
    const shuffled = newDir();
    await importFile(SUBSET, opts(grouped));
    const lines = gunzipSync(readFileSync(SUBSET)).toString('utf8').trim().split('\n');
    const body = lines
      .slice(1)
      .sort((a, b) => a.split(',')[1].localeCompare(b.split(',')[1]) || a.localeCompare(b));
    const dup = body.find((l) => l.startsWith('FB,'))!;
    const path = join(shuffled, 'by-date.csv');
    writeFileSync(path, [lines[0], ...body, dup].join('\n'));
    const s = await importFile(path, opts(shuffled));
    expect(s).toMatchObject({
      entities: 4,
      rowsAdded: 3821,
      rowsRejected: 1,
      rejectedByReason: { duplicate_date: 1 },
    });
    for (const e of listCatalog(grouped))
      expect(readEntity(shuffled, e.code)).toEqual(readEntity(grouped, e.code));
  });
});

describe('bad rows', () => {
  it('keeps the good rows and reports every rejected row with its reason', async () => {
    const dir = newDir();
    const s = await importFile(BAD, opts(dir));
    expect(s.rowsRead).toBe(19);
    expect(s.rejectedByReason).toEqual({
      invalid_date: 3,
      future_date: 1,
      non_positive_price: 2,
      ohlc_inconsistent: 2,
      invalid_number: 2,
      invalid_volume: 2,
      duplicate_date: 1,
      invalid_code: 2,
    });
    expect(s.rowsRejected).toBe(15);
    expect(s.rejectedSamples.find((r) => r.reason === 'future_date')).toMatchObject({
      ticker: 'GOOD',
      date: '2099-01-02',
    });
    expect(s.rejectedSamples.filter((r) => r.reason === 'invalid_code').map((r) => r.ticker)).toEqual([
      '../etc',
      '',
    ]);
    expect(readEntity(dir, 'GOOD')).toEqual([
      { date: '2024-01-04', open: 10, high: 11, low: 9, close: 10.5, volume: 1000 },
      { date: '2024-01-05', open: 10.5, high: 11.5, low: 10, close: 11, volume: 2000 },
      { date: '2024-01-08', open: 11, high: 12, low: 10.5, close: 11.5, volume: 0 },
    ]);
    expect(readEntity(dir, 'QUOT')).toEqual([
      { date: '2024-01-19', open: 1010.5, high: 1020, low: 1000, close: 1015, volume: 12345 },
    ]);
    expect(listCatalog(dir).map((e) => e.code)).toEqual(['GOOD', 'QUOT']);
  });
});

describe('spreadsheets and Japanese files', () => {
  it('imports XLSX with Japanese headers, Excel date cells and text dates', async () => {
    const dir = newDir();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('株価');
    ws.addRow(['銘柄コード', '日付', '始値', '高値', '安値', '終値', '出来高', '銘柄名']);
    ws.addRow([7203, new Date(Date.UTC(2024, 0, 4)), 2600, 2650, 2590, 2640, 1200000, 'トヨタ自動車']);
    ws.addRow([7203, new Date(Date.UTC(2024, 0, 5)), 2640, 2700, 2630, 2690.5, 1300000, 'トヨタ自動車']);
    ws.addRow([7203, '2024/01/09', 2690, 2710, 2600, 2610, 900000, 'トヨタ自動車']);
    ws.addRow([
      '6758',
      new Date(Date.UTC(2024, 1, 29)),
      13000,
      13100,
      12900,
      13050,
      500000,
      'ソニーグループ',
    ]);
    ws.addRow(['6758', new Date(Date.UTC(2024, 2, 1)), 13050, 13000, 12900, 12950, 400000, 'ソニーグループ']);
    ws.getColumn(2).numFmt = 'yyyy/mm/dd';
    const path = join(dir, 'kabuka.xlsx');
    await wb.xlsx.writeFile(path);

    const s = await importFile(path, { ...opts(dir), market: 'TSE', currency: 'JPY' });
    expect(s).toMatchObject({
      kind: 'xlsx',
      entities: 2,
      rowsRead: 5,
      rowsAdded: 4,
      rowsRejected: 1,
      rejectedByReason: { ohlc_inconsistent: 1 },
    });
    expect(readEntity(dir, '7203')).toEqual([
      { date: '2024-01-04', open: 2600, high: 2650, low: 2590, close: 2640, volume: 1200000 },
      { date: '2024-01-05', open: 2640, high: 2700, low: 2630, close: 2690.5, volume: 1300000 },
      { date: '2024-01-09', open: 2690, high: 2710, low: 2600, close: 2610, volume: 900000 },
    ]);
    expect(readEntity(dir, '6758')).toEqual([
      { date: '2024-02-29', open: 13000, high: 13100, low: 12900, close: 13050, volume: 500000 },
    ]);
    expect(listCatalog(dir).map((e) => [e.code, e.name, e.market, e.currency])).toEqual([
      ['6758', 'ソニーグループ', 'TSE', 'JPY'],
      ['7203', 'トヨタ自動車', 'TSE', 'JPY'],
    ]);
    const again = await importFile(path, { ...opts(dir), market: 'TSE', currency: 'JPY' });
    expect(again.dataVersionAfter).toBe(s.dataVersionAfter);
  });

  it('reads Shift_JIS CSV (as Japanese Excel saves it) with Japanese headers', async () => {
    const dir = newDir();
    const text =
      '銘柄コード,日付,始値,高値,安値,終値,出来高\r\n9984,2024/1/4,8000,8100,7900,8050,3000000\r\n';
    const path = join(dir, 'sjis.csv');
    writeFileSync(path, encodeShiftJis(text));
    expect(readFileSync(path).includes(Buffer.from('銘柄'))).toBe(false);
    const s = await importFile(path, opts(dir));
    expect(s).toMatchObject({ entities: 1, rowsAdded: 1, rowsRejected: 0 });
    expect(readEntity(dir, '9984')).toEqual([
      { date: '2024-01-04', open: 8000, high: 8100, low: 7900, close: 8050, volume: 3000000 },
    ]);
  });
});

/** Shift_JIS encoder built from the platform's decoder (Node has no SJIS encoder). */
function encodeShiftJis(text: string): Buffer {
  const dec = new TextDecoder('shift_jis');
  const table = new Map<string, number[]>();
  for (let hi = 0x81; hi <= 0xfc; hi++) {
    if (hi > 0x9f && hi < 0xe0) continue;
    for (let lo = 0x40; lo <= 0xfc; lo++) {
      const ch = dec.decode(new Uint8Array([hi, lo]));
      if (ch.length === 1 && ch !== '\uFFFD' && !table.has(ch)) table.set(ch, [hi, lo]);
    }
  }
  const bytes: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) bytes.push(ch.charCodeAt(0));
    else {
      const b = table.get(ch);
      if (!b) throw new Error(`no Shift_JIS code for ${ch}`);
      bytes.push(...b);
    }
  }
  return Buffer.from(bytes);
}
