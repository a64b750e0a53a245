import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { entityPath, openStore, readEntity } from '../store/index.js';
import { SCRAPER_DIR, TSX_BIN, makeRows, silentLogger, tempDir } from '../../test/helpers.js';
import { importListings } from './import-listings.js';
import { readListingTable } from './listing-table.js';
import { parseListing } from './parse-listing.js';

const LISTINGS = join(SCRAPER_DIR, 'fixtures/listings');
const XLS_2019 = join(LISTINGS, 'data_j_2019-09-30.sample.xls');
const CSV_2024 = join(LISTINGS, 'data_j_2024-12-27.sample.csv');
const SJIS_2024 = join(LISTINGS, 'data_j_2024-12-27.sample.sjis.csv');
const SP500 = join(SCRAPER_DIR, 'demo/sandp500-5yr/companies.csv');
const JP_PROXIES = join(SCRAPER_DIR, 'demo/huge-jp-proxies/companies.csv');

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function newDir(): string {
  const t = tempDir('resemble-listings-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const importOpts = (dataDir: string) => ({ dataDir, logger: silentLogger });

describe('reading JPX listings', () => {
  it('reads the BIFF8 workbook: pre-2022 segments, kinds, padded 33業種 codes, a five-digit code', async () => {
    const { format, rows } = await readListingTable(XLS_2019);
    expect(format).toBe('xls');
    const p = parseListing(rows);
    expect(p).toMatchObject({ layout: 'jpx', asOf: '2019-09-30', rows: 25, bad: [] });
    const by = new Map(p.patches.map((x) => [x.code, x]));
    expect(by.get('7203')).toEqual({
      code: '7203',
      market: 'JP',
      nameJa: 'トヨタ自動車',
      kind: 'stock',
      sector33Code: '3700',
      sector33Name: '輸送用機器',
      sector17Code: '6',
      sector17Name: '自動車・輸送機',
      segment: '市場第一部（内国株）',
      sizeCode: '1',
      sizeClass: 'TOPIX Core30',
    });
    expect(by.get('1301')?.sector33Code).toBe('0050');
    expect(by.get('1306')).toMatchObject({ kind: 'etf', sector33Code: null, sizeClass: null });
    expect(by.get('8951')?.kind).toBe('reit');
    expect(by.get('9282')?.kind).toBe('fund');
    expect(by.get('8301')?.kind).toBe('stock');
    expect(by.get('25935')?.nameJa).toBe('伊藤園 優先株式');
  });

  it('reads the current layout as CSV, UTF-8 and Shift_JIS alike, with codes that contain a letter', async () => {
    const utf8 = parseListing((await readListingTable(CSV_2024)).rows);
    const sjis = parseListing((await readListingTable(SJIS_2024)).rows);
    expect(sjis).toEqual(utf8);
    expect(utf8.asOf).toBe('2024-12-27');
    const by = new Map(utf8.patches.map((x) => [x.code, x]));
    expect(by.get('285A')).toMatchObject({
      nameJa: 'キオクシアホールディングス',
      segment: 'プライム（内国株式）',
    });
    expect(by.get('130A')?.segment).toBe('グロース（内国株式）');
    expect(by.get('8604')?.sector33Name).toBe('証券、商品先物取引業');
  });

  it('reports every bad row with its line and reason and keeps the rest', async () => {
    const p = parseListing((await readListingTable(CSV_2024)).rows);
    expect(p.patches).toHaveLength(26);
    expect(p.bad).toEqual([
      { line: 28, reason: expect.stringMatching(/^code "12" is not a TSE code/) },
      { line: 29, reason: '9999: no name (銘柄名)' },
      { line: 30, reason: expect.stringMatching(/^9998: date "20241399" is not a date/) },
      { line: 31, reason: '7203: listed twice (first on line 16)' },
    ]);
  });

  it('reports the line a refused row starts on in the file: blank lines and quoted line breaks counted', async () => {
    const dir = newDir();
    for (const eol of ['\n', '\r\n']) {
      const file = join(dir, `lines${eol.length}.csv`);
      writeFileSync(
        file,
        [
          'ticker,name,sector',
          'AAPL,Apple Inc.,Information Technology',
          '',
          'MSFT,"Microsoft',
          'Corp.",Information Technology',
          '$$$,Bad Ticker,Financials',
          'GOOG,,Communication Services',
          '',
        ].join(eol),
      );
      const p = parseListing((await readListingTable(file)).rows);
      expect(p.patches.map((x) => [x.code, x.nameEn])).toEqual([
        ['AAPL', 'Apple Inc.'],
        ['MSFT', `Microsoft${eol}Corp.`],
      ]);
      expect(p.bad).toEqual([
        { line: 6, reason: expect.stringMatching(/^ticker "\$\$\$" is not a valid code/) },
        { line: 7, reason: 'GOOG: no name' },
      ]);
    }
  });

  it('refuses a file that is no listing, naming the layouts it knows', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'x.csv'), 'foo,bar\n1,2\n');
    await expect(importListings(join(dir, 'x.csv'), importOpts(newDir()))).rejects.toThrow(
      /unknown listing layout.*expected JPX/,
    );
  });
});

describe('importing listings into the store', () => {
  it('2019 then 2024: renames and new segments without touching prices, new codes without prices, the gone delisted', async () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: '6758', market: 'JP', currency: 'JPY' }, makeRows(30, 7));
    store.writeEntity({ code: '9437', market: 'JP', currency: 'JPY' }, makeRows(30, 8));
    store.close();
    const shas = [sha(entityPath(dir, '6758')), sha(entityPath(dir, '9437'))];

    const first = await importListings(XLS_2019, importOpts(dir));
    expect(first).toMatchObject({ layout: 'jpx', asOf: '2019-09-30', added: 23, updated: 2, delisted: 0 });
    const again = await importListings(XLS_2019, importOpts(dir));
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 25 });
    expect(again.dataVersionAfter).toBe(first.dataVersionAfter);

    const next = await importListings(SJIS_2024, importOpts(dir));
    expect(next).toMatchObject({ asOf: '2024-12-27', added: 2, delisted: 1 });
    expect(next.bad).toHaveLength(4);
    const s = openStore(dir);
    expect(s.getCompany('6758')).toMatchObject({
      name_ja: 'ソニーグループ',
      segment: 'プライム（内国株式）',
      status: 'listed',
    });
    expect(s.getCompany('9437')).toMatchObject({
      name_ja: 'ＮＴＴドコモ',
      status: 'delisted',
      delisted_since: '2024-12-27',
    });
    expect(s.getCompany('285A')).toMatchObject({ status: 'listed', listed_since: '2024-12-27' });
    expect(s.getCatalogEntry('285A')).toBeUndefined();
    expect(s.getCompany('7203')?.listed_since).toBe('2019-09-30');
    s.close();
    expect([sha(entityPath(dir, '6758')), sha(entityPath(dir, '9437'))]).toEqual(shas);
    expect(readEntity(dir, '9437')).toEqual(makeRows(30, 8));
  });

  it('companies CSVs: GICS sectors, ETFs and funds by their sector, Japanese names next to English ones', async () => {
    const dir = newDir();
    const sp = await importListings(SP500, importOpts(dir));
    expect(sp).toMatchObject({ layout: 'companies', added: 505, bad: [] });
    const jp = await importListings(JP_PROXIES, importOpts(dir));
    expect(jp).toMatchObject({ added: 24, bad: [] });
    const s = openStore(dir);
    expect(s.getCompany('AAPL')).toMatchObject({
      market: 'US',
      name_en: 'Apple Inc.',
      gics_sector: 'Information Technology',
      kind: 'stock',
    });
    expect(s.getCompany('TM')).toMatchObject({
      name_en: 'Toyota Motor Corp (ADR)',
      name_ja: 'トヨタ自動車',
      gics_sector: 'Consumer Discretionary',
    });
    expect(s.getCompany('EWJ')).toMatchObject({
      kind: 'etf',
      gics_sector: null,
      name_ja: 'iシェアーズ MSCI ジャパン ETF',
    });
    expect(s.getCompany('JEQ')?.kind).toBe('fund');
    // A companies CSV is not a full listing: nothing is delisted.
    expect(s.listCompanies().every((c) => c.status === 'listed')).toBe(true);
    s.close();
  });
});

describe('the import CLI with --listings', () => {
  const run = (args: string[]) =>
    spawnSync(TSX_BIN, ['src/import.cli.ts', ...args], {
      cwd: SCRAPER_DIR,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });

  it('prints the refused rows with their lines, and exits non-zero on a file of which no row could be used or that is no listing', () => {
    const dir = newDir();
    const ok = run(['--listings', CSV_2024, '--data', dir]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/26 accepted, 4 refused/);
    expect(ok.stdout).toMatch(/line 31: 7203: listed twice/);
    writeFileSync(join(dir, 'refused.csv'), 'ticker,name,sector\n$$$,Bad,Financials\nGOOG,,Financials\n');
    const none = run(['--listings', join(dir, 'refused.csv'), '--data', dir]);
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/line 3: GOOG: no name/);
    expect(none.stderr).toMatch(
      /import failed: no row of refused.csv could be used \(2 data rows, 2 refused\)/,
    );
    writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n');
    const bad = run(['--listings', join(dir, 'bad.csv'), '--data', dir]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/import failed: unknown listing layout/);
  });
});
