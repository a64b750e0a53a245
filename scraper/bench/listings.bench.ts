/**
 * Listing import time: JPX's real data_j.xls (4,005 issues, BIFF8) from ../shared when present, else the
 * repo's sample; read + parse alone, then the whole `--listings` import into a fresh store and again
 * (identical re-import). Median of 5 runs each. Run: npx tsx scraper/bench/listings.bench.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { importListings } from '../src/listings/import-listings.js';
import { workbookRows } from '../src/listings/listing-table.js';
import { parseListing } from '../src/listings/parse-listing.js';
import { silentLogger, tempDir } from '../test/helpers.js';

// ../shared beside the clone (or beside a worktree's parent folder).
const SHARED = ['../../../shared', '../../../../shared']
  .map((d) => resolve(import.meta.dirname, d, 'data/jpx-listings/data_j_2019-09-30.xls'))
  .find((f) => existsSync(f));
const FILE = SHARED ?? resolve(import.meta.dirname, '../fixtures/listings/data_j_2019-09-30.sample.xls');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = 5;

const parseMs: number[] = [];
let issues = 0;
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  const p = parseListing(workbookRows(readFileSync(FILE), FILE));
  parseMs.push(performance.now() - t);
  issues = p.patches.length;
}
const firstMs: number[] = [];
const againMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = tempDir('resemble-bench-listings-');
  try {
    firstMs.push((await importListings(FILE, { dataDir: t.dir, logger: silentLogger })).durationMs);
    againMs.push((await importListings(FILE, { dataDir: t.dir, logger: silentLogger })).durationMs);
  } finally {
    t.cleanup();
  }
}
console.log(
  JSON.stringify({
    bench: 'listing import',
    file: FILE.endsWith('sample.xls') ? 'sample (25 issues)' : 'data_j_2019-09-30.xls',
    issues,
    runs: RUNS,
    readParseMedianMs: Math.round(median(parseMs)),
    importIntoEmptyStoreMedianMs: Math.round(median(firstMs)),
    identicalReimportMedianMs: Math.round(median(againMs)),
  }),
);
