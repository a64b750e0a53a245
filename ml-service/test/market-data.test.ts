/**
 * The loader reads each entity's dates as one concatenated string (fast) and falls back to a row-by-row
 * read that names the first problem; a damaged file refuses the whole snapshot with that reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ENTITIES_DIR, entityFileName } from '@resemble/contracts';
import { isoToDay } from '../src/dates.js';
import { loadMarketData, MarketDataError } from '../src/market-data.js';
import { businessDays, randomWalk, rng, writeStore, type FixtureEntity } from './support/write-store.js';

function fixture(): FixtureEntity[] {
  const random = rng(3);
  return ['AAA', 'BBB', 'CCC'].map((code, i) => {
    const n = 200 + 50 * i;
    return { code, dates: businessDays('2015-01-05', n), closes: randomWalk(random, n) };
  });
}

describe('loading the store', () => {
  const dirs: string[] = [];
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-load-'));
    dirs.push(dir);
    const fx = fixture();
    writeStore(dir, fx, 'v1');
    return { dir, fx };
  };
  const edit = (dir: string, code: string, sql: string) => {
    const db = new Database(join(dir, ENTITIES_DIR, entityFileName(code)));
    db.exec(sql);
    db.close();
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads every close and day exactly', () => {
    const { dir, fx } = store();
    const data = loadMarketData(dir);
    fx.forEach((e, i) => {
      const a = data.offsets[i]!;
      expect(Array.from(data.closes.subarray(a, data.offsets[i + 1]!))).toEqual(Array.from(e.closes));
      expect(Array.from(data.days.subarray(a, data.offsets[i + 1]!))).toEqual(e.dates.map(isoToDay));
    });
  });

  it('reads closes that need all 17 digits exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-load-'));
    dirs.push(dir);
    const tricky = [
      1 / 3,
      0.1 + 0.2,
      Math.PI * 1e5,
      1e-7 / 3,
      123456.78901234567,
      2 ** 53 + 2,
      5e-324,
      1.2345678901234567e300,
      0.5,
      7,
    ];
    const closes = Array.from(
      { length: 60 },
      (_, i) => tricky[i % tricky.length]! * (1 + i * Number.EPSILON),
    );
    writeStore(dir, [{ code: 'PREC', dates: businessDays('2020-01-06', closes.length), closes }], 'p1');
    expect(Array.from(loadMarketData(dir).closes)).toEqual(closes);
  });

  it.each([
    [
      'an impossible date',
      "UPDATE prices SET date = '2015-02-30' WHERE date = '2015-02-27'",
      /BBB has an invalid date at row 39/,
    ],
    [
      'a date in another format',
      "UPDATE prices SET date = '2015/02/27' WHERE date = '2015-02-27'",
      /BBB has an invalid date/,
    ],
    [
      'a close that is not a number',
      "UPDATE prices SET close = 'n/a' WHERE date = '2015-01-07'",
      /BBB has a non-finite close at row 2/,
    ],
    [
      'a missing row',
      "DELETE FROM prices WHERE date = '2015-01-07'",
      /BBB has 249 rows but the catalog says 250/,
    ],
  ])('refuses %s, naming it', (_label, sql, reason) => {
    const { dir } = store();
    edit(dir, 'BBB', sql);
    expect(() => loadMarketData(dir)).toThrow(MarketDataError);
    expect(() => loadMarketData(dir)).toThrow(reason);
  });
});
