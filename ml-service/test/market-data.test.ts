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
import { isoToDay } from '../src/market/dates.js';
import { loadMarketData as loadStore, MarketDataError } from '../src/market/market-data.js';
import { nativeStoreReader } from '../src/market/store-native.js';
import { businessDays, randomWalk, rng, writeStore, type FixtureEntity } from './support/write-store.js';

function fixture(): FixtureEntity[] {
  const random = rng(3);
  return ['AAA', 'BBB', 'CCC'].map((code, i) => {
    const n = 200 + 50 * i;
    return { code, dates: businessDays('2015-01-05', n), closes: randomWalk(random, n) };
  });
}

// Every loader test runs with the native reader (where it is built) and through better-sqlite3 alone,
// the path of machines without the addon.
const readers = [
  { reader: 'native', native: undefined },
  { reader: 'better-sqlite3', native: null },
] as const;

describe.each(readers)('loading the store ($reader)', ({ native }) => {
  const loadMarketData = (dir: string) => loadStore(dir, { native });
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

/** The slow, obvious read: every row through better-sqlite3, dates parsed one by one. */
function referenceRead(file: string): { closes: number[]; days: number[] } {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT date, close FROM prices ORDER BY date').all() as {
    date: string;
    close: number;
  }[];
  db.close();
  return { closes: rows.map((r) => r.close), days: rows.map((r) => isoToDay(r.date)) };
}

describe('the native entity-file reader', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const reader = nativeStoreReader();
  const storeOf = (entities: FixtureEntity[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-native-'));
    dirs.push(dir);
    writeStore(dir, entities, 'n1');
    return (code: string) => join(dir, ENTITIES_DIR, entityFileName(code));
  };
  const read = (file: string, n: number) => {
    const closes = new Float64Array(n);
    const days = new Int32Array(n);
    return {
      rows: reader!.readEntity(file, closes, days),
      closes: Array.from(closes),
      days: Array.from(days),
    };
  };

  // It is built by `npm install` wherever libsqlite3-dev is (scripts/setup.sh installs it): require it on
  // Linux, so a broken build cannot hide behind the better-sqlite3 path.
  it.runIf(process.platform === 'linux')('is built', () => {
    expect(reader).not.toBeNull();
  });

  it.runIf(reader !== null)('reads exactly what a row-by-row read through better-sqlite3 reads', () => {
    const random = rng(11);
    const tricky = [
      1 / 3,
      0.1 + 0.2,
      5e-324,
      -2.5,
      2 ** 53 + 2,
      1.2345678901234567e300,
      7,
      123456.78901234567,
    ];
    const entities: FixtureEntity[] = [
      { code: 'WALK', dates: businessDays('1999-12-27', 700), closes: randomWalk(random, 700) },
      {
        code: 'EDGE',
        dates: businessDays('2000-02-24', 80),
        closes: Array.from({ length: 80 }, (_, i) => tricky[i % 8]!),
      },
      // Dates before 1970 and across a century's non-leap year (negative days, era arithmetic).
      { code: 'OLD', dates: businessDays('1899-12-20', 120), closes: randomWalk(random, 120) },
    ];
    const file = storeOf(entities);
    for (const e of entities) {
      const want = referenceRead(file(e.code));
      const got = read(file(e.code), e.dates.length);
      expect(got.rows).toBe(e.dates.length);
      expect(got.closes).toEqual(want.closes);
      expect(got.days).toEqual(want.days);
    }
  });

  it.runIf(reader !== null).each([
    ['an impossible date', "UPDATE prices SET date = '2015-02-29' WHERE date = '2015-02-27'"],
    ['a date in another format', "UPDATE prices SET date = '2015/02/27' WHERE date = '2015-02-27'"],
    ['a close that is text', "UPDATE prices SET close = 'n/a' WHERE date = '2015-01-07'"],
    ['a missing row', "DELETE FROM prices WHERE date = '2015-01-07'"],
  ])('trusts nothing of a file with %s (-1: the loader reads it again and names the problem)', (_l, sql) => {
    const random = rng(5);
    const file = storeOf([
      { code: 'BAD', dates: businessDays('2015-01-05', 60), closes: randomWalk(random, 60) },
    ]);
    const db = new Database(file('BAD'));
    db.exec(sql);
    db.close();
    expect(read(file('BAD'), 60).rows).toBe(-1);
  });

  it.runIf(reader !== null)('returns -1 for a missing file or a row count other than the file has', () => {
    const random = rng(6);
    const file = storeOf([
      { code: 'OK', dates: businessDays('2015-01-05', 30), closes: randomWalk(random, 30) },
    ]);
    expect(read(file('NOPE'), 30).rows).toBe(-1);
    expect(read(file('OK'), 29).rows).toBe(-1);
    expect(read(file('OK'), 31).rows).toBe(-1);
    expect(read(file('OK'), 30).rows).toBe(30);
  });

  it.runIf(reader !== null)('refuses arguments of the wrong kind', () => {
    expect(() => reader!.readEntity('x', new Float64Array(2), new Int32Array(3))).toThrow(TypeError);
    expect(() =>
      reader!.readEntity('x', new Float32Array(2) as unknown as Float64Array, new Int32Array(2)),
    ).toThrow(TypeError);
  });
});
