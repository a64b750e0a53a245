import { afterEach, describe, expect, it } from 'vitest';
import {
  computeAdjusted,
  openStore,
  readEntity,
  StoreError,
  type Adjustment,
  type RowInput,
} from './index.js';
import { makeRows, seededRandom, tempDir } from '../../test/helpers.js';

/** The obviously correct twin: for every row, multiply the factors of all later ex-dates. */
function naiveAdjusted(raw: RowInput[], adjustments: Adjustment[]): RowInput[] {
  return raw.map((r) => {
    let price = 1;
    let vol = 1;
    for (const a of adjustments) {
      if (a.exDate > r.date) {
        price *= a.factor;
        if (a.kind === 'split') vol *= a.factor;
      }
    }
    return {
      date: r.date,
      open: r.open * price,
      high: r.high * price,
      low: r.low * price,
      close: r.close * price,
      volume: Math.round(r.volume / vol),
    };
  });
}

function randomAdjustments(rows: RowInput[], seed: number, n: number): Adjustment[] {
  const rnd = seededRandom(seed);
  const byDate = new Map<string, Adjustment>();
  for (let i = 0; i < n; i++) {
    const exDate = rows[Math.floor(rnd() * rows.length)].date;
    byDate.set(
      exDate,
      rnd() < 0.5
        ? { exDate, kind: 'split', factor: [0.5, 0.25, 1 / 3, 2][Math.floor(rnd() * 4)] }
        : { exDate, kind: 'dividend', factor: 1 - rnd() * 0.05 },
    );
  }
  return [...byDate.values()];
}

function expectClose(a: RowInput[], b: RowInput[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(a[i].date).toBe(b[i].date);
    expect(a[i].volume).toBe(b[i].volume);
    for (const k of ['open', 'high', 'low', 'close'] as const) expect(a[i][k]).toBeCloseTo(b[i][k], 9);
  }
}

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('computeAdjusted', () => {
  it.each([1, 2, 3, 4, 5])('matches the naive twin on seeded data (seed %i)', (seed) => {
    const rows = makeRows(300, seed);
    const adjustments = randomAdjustments(rows, seed * 31, seed);
    expectClose(computeAdjusted(rows, adjustments), naiveAdjusted(rows, adjustments));
  });

  it('handles edge cases: no adjustments, ex-date on the first row, after the last row', () => {
    const rows = makeRows(10, 8);
    expect(computeAdjusted(rows, [])).toEqual(rows);
    const first: Adjustment[] = [{ exDate: rows[0].date, kind: 'split', factor: 0.5 }];
    expect(computeAdjusted(rows, first)).toEqual(rows);
    const after: Adjustment[] = [{ exDate: '2099-01-01', kind: 'split', factor: 0.5 }];
    expectClose(computeAdjusted(rows, after), naiveAdjusted(rows, after));
    expect(computeAdjusted(rows, after)[9].close).toBeCloseTo(rows[9].close / 2, 12);
  });
});

describe('adjustments in the store', () => {
  it('rebuilds prices from raw prices and every stored adjustment', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = openStore(t.dir);
    const rows = makeRows(120, 4);
    store.writeEntity({ code: 'SPLT' }, rows);
    const split: Adjustment = { exDate: rows[60].date, kind: 'split', factor: 0.5 };
    expect(store.writeEntity({ code: 'SPLT' }, [], { adjustments: [split] }).changed).toBe(true);
    expectClose(readEntity(t.dir, 'SPLT'), naiveAdjusted(rows, [split]));
    expect(readEntity(t.dir, 'SPLT', { raw: true })).toEqual(rows);

    const div: Adjustment = { exDate: rows[90].date, kind: 'dividend', factor: 0.98 };
    const more = makeRows(130, 4).slice(120);
    store.writeEntity({ code: 'SPLT' }, more, { adjustments: [div] });
    const all = [...rows, ...more];
    expectClose(readEntity(t.dir, 'SPLT'), naiveAdjusted(all, [split, div]));
    expect(store.readAdjustments('SPLT')).toEqual([split, div]);
    // The same adjustment again changes nothing.
    expect(store.writeEntity({ code: 'SPLT' }, [], { adjustments: [split] }).changed).toBe(false);
    expect(() => store.writeEntity({ code: 'SPLT' }, [], { adjustments: [{ ...split, factor: 0 }] })).toThrow(
      StoreError,
    );
    store.close();
  });
});
