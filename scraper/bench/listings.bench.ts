/**
 * Listing import time: JPX's real data_j.xls (4,005 issues, BIFF8) from ../shared when present, else the
 * repo's sample; and the same table saved as CSV, UTF-8 and Shift_JIS (written here from the workbook, as
 * Excel's "save as CSV" would). For each: read + parse alone, then the whole `--listings` import into a
 * fresh store and again (identical re-import). Median of RUNS runs each (default 5).
 * Run: npx tsx scraper/bench/listings.bench.ts [runs]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import * as XLSX from '@e965/xlsx';
import { importListings } from '../src/listings/import-listings.js';
import { readListingTable } from '../src/listings/listing-table.js';
import { parseListing } from '../src/listings/parse-listing.js';
import { silentLogger, tempDir } from '../test/helpers.js';

// ../shared beside the clone (or beside a worktree's parent folder).
const SHARED = ['../../../shared', '../../../../shared']
  .map((d) => resolve(import.meta.dirname, d, 'data/jpx-listings/data_j_2019-09-30.xls'))
  .find((f) => existsSync(f));
const XLS = SHARED ?? resolve(import.meta.dirname, '../fixtures/listings/data_j_2019-09-30.sample.xls');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = Number(process.argv[2] ?? 5);

/**
 * Shift_JIS (cp932) bytes of a text, from the platform's own decoder read backwards: every one- and
 * two-byte sequence is decoded once and the first sequence giving a character is its encoding. Node has
 * a Shift_JIS decoder but no encoder; this keeps the bench free of an extra dependency.
 */
function shiftJis(text: string): Buffer {
  const dec = new TextDecoder('shift_jis');
  const map = new Map<string, number[]>();
  for (let b = 0; b < 0x80; b++) map.set(String.fromCharCode(b), [b]);
  for (let b = 0xa1; b <= 0xdf; b++) map.set(dec.decode(Uint8Array.of(b)), [b]);
  for (let lead = 0x81; lead <= 0xfc; lead++) {
    if (lead > 0x9f && lead < 0xe0) continue;
    for (let trail = 0x40; trail <= 0xfc; trail++) {
      if (trail === 0x7f) continue;
      const ch = dec.decode(Uint8Array.of(lead, trail));
      if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, [lead, trail]);
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    const bytes = map.get(ch);
    if (!bytes) throw new Error(`no Shift_JIS code for ${JSON.stringify(ch)}`);
    out.push(...bytes);
  }
  return Buffer.from(out);
}

const files = tempDir('resemble-bench-listing-files-');
const wb = XLSX.read(readFileSync(XLS), { type: 'buffer' });
const csv = XLSX.utils.sheet_to_csv(wb.Sheets[wb.SheetNames[0]!]!, { RS: '\r\n', blankrows: false });
const UTF8 = join(files.dir, 'data_j.csv');
const SJIS = join(files.dir, 'data_j.sjis.csv');
writeFileSync(UTF8, csv);
writeFileSync(SJIS, shiftJis(csv));

try {
  for (const [label, file] of [
    [XLS.endsWith('sample.xls') ? 'sample (25 issues) .xls' : 'data_j_2019-09-30.xls', XLS],
    ['same table as CSV, UTF-8', UTF8],
    ['same table as CSV, Shift_JIS', SJIS],
  ] as const) {
    // One untimed read first: the reader's first calls (JIT, SheetJS's tables) would colour the figures.
    parseListing((await readListingTable(file)).rows);
    const parseMs: number[] = [];
    let issues = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const p = parseListing((await readListingTable(file)).rows);
      parseMs.push(performance.now() - t);
      issues = p.patches.length;
    }
    const firstMs: number[] = [];
    const againMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = tempDir('resemble-bench-listings-');
      try {
        firstMs.push((await importListings(file, { dataDir: t.dir, logger: silentLogger })).durationMs);
        againMs.push((await importListings(file, { dataDir: t.dir, logger: silentLogger })).durationMs);
      } finally {
        t.cleanup();
      }
    }
    console.log(
      JSON.stringify({
        bench: 'listing import',
        file: label,
        bytes: readFileSync(file).length,
        issues,
        runs: RUNS,
        readParseMedianMs: Math.round(median(parseMs)),
        importIntoEmptyStoreMedianMs: Math.round(median(firstMs)),
        identicalReimportMedianMs: Math.round(median(againMs)),
      }),
    );
  }
} finally {
  files.cleanup();
}
