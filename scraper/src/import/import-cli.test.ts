import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listCatalog } from '../store/index.js';
import { FIXTURES, SCRAPER_DIR, TSX_BIN, tempDir } from '../../test/helpers.js';

const BAD = join(FIXTURES, 'bad-rows.csv');

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function newDir(): string {
  const t = tempDir('resemble-import-cli-');
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('the import CLI', () => {
  const run = (args: string[]) =>
    spawnSync(TSX_BIN, ['src/import.cli.ts', ...args], {
      cwd: SCRAPER_DIR,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });

  it('prints a summary and exits 0 on success', () => {
    const dir = newDir();
    const res = run([BAD, '--data', dir, '--json']);
    expect(res.status, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ entities: 2, rowsAdded: 4, rowsRejected: 15 });
  });

  it.each([
    ['a missing file', (d: string) => join(d, 'nope.csv'), /file not found/],
    [
      'a binary file',
      (d: string) => (
        writeFileSync(join(d, 'x.csv'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d])),
        join(d, 'x.csv')
      ),
      /not a CSV or XLSX/,
    ],
    [
      'a CSV without the required columns',
      (d: string) => (
        writeFileSync(join(d, 'y.csv'), 'ticker,day,price\nA,2024-01-01,3\n'),
        join(d, 'y.csv')
      ),
      /missing required column\(s\) date, open, high, low, close, volume/,
    ],
    [
      'a truncated gzip file',
      (d: string) => (
        writeFileSync(
          join(d, 't.csv.gz'),
          readFileSync(join(FIXTURES, 'sp500-subset.csv.gz')).subarray(0, 30000),
        ),
        join(d, 't.csv.gz')
      ),
      /cannot read .*unexpected end of file/,
    ],
    [
      'a zip that is not a workbook',
      (d: string) => (
        writeFileSync(join(d, 'z.xlsx'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64)])),
        join(d, 'z.xlsx')
      ),
      /cannot read .* as XLSX/,
    ],
  ])('exits non-zero with a clear message for %s', (_name, make, message) => {
    const dir = newDir();
    const res = run([make(dir), '--data', join(dir, 'store')]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^import failed: /m);
    expect(res.stderr).toMatch(message);
    expect(listCatalog(join(dir, 'store'))).toEqual([]);
  });

  it('exits 2 with usage on bad arguments', () => {
    const res = run(['--bogus']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/usage: npm run import/);
  });
});
