import { describe, expect, it } from 'vitest';
import { mulberry32 } from './seeded-random.js';
import type { PriceRow } from './store.js';
import { periodKey, resamplePriceRows, timeframeSchema, type Timeframe } from './timeframe.js';

/**
 * The slow twin: each row's period as a number computed another way (weeks counted from the Monday
 * 1969-12-29 by whole days, months as year * 12 + month), rows grouped into a map, each group reduced
 * with the array methods.
 */
function twin(rows: PriceRow[], timeframe: Timeframe): PriceRow[] {
  const period = (iso: string) => {
    const d = new Date(`${iso}T00:00:00Z`);
    if (timeframe === 'M') return d.getUTCFullYear() * 12 + d.getUTCMonth();
    if (timeframe === 'W') return Math.floor((d.getTime() / 86_400_000 + 3) / 7);
    return d.getTime();
  };
  const groups = new Map<number, PriceRow[]>();
  for (const r of rows) groups.set(period(r.date), [...(groups.get(period(r.date)) ?? []), r]);
  return [...groups.values()].map((g) => ({
    date: g[g.length - 1]!.date,
    open: g[0]!.open,
    high: Math.max(...g.map((r) => r.high)),
    low: Math.min(...g.map((r) => r.low)),
    close: g[g.length - 1]!.close,
    volume: g.reduce((s, r) => s + r.volume, 0),
  }));
}

function row(date: string, close: number, volume = 100): PriceRow {
  return { date, open: close - 1, high: close + 2, low: close - 3, close, volume };
}

/** Weekdays from `start`, each skipped with probability `skip` (holidays), with random OHLCV. */
function seededRows(seed: number, start: string, days: number, skip: number): PriceRow[] {
  const random = mulberry32(seed);
  const out: PriceRow[] = [];
  let ms = Date.parse(`${start}T00:00:00Z`);
  let close = 100;
  for (let i = 0; i < days; i++, ms += 86_400_000) {
    const dow = new Date(ms).getUTCDay();
    if (dow === 0 || dow === 6 || random() < skip) continue;
    close *= 1 + (random() - 0.5) * 0.04;
    const open = close * (1 + (random() - 0.5) * 0.02);
    out.push({
      date: new Date(ms).toISOString().slice(0, 10),
      open,
      high: Math.max(open, close) * (1 + random() * 0.01),
      low: Math.min(open, close) * (1 - random() * 0.01),
      close,
      volume: Math.floor(random() * 1e6),
    });
  }
  return out;
}

describe('timeframes', () => {
  it('names the allowed values when refusing one', () => {
    expect(timeframeSchema.safeParse('W').success).toBe(true);
    const bad = timeframeSchema.safeParse('weekly');
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toMatch(/"D".*"W".*"M"/);
  });

  it('keys weeks by their Monday across a year boundary and months by YYYY-MM', () => {
    expect(periodKey('2025-01-01', 'W')).toBe('2024-12-30'); // a Wednesday
    expect(periodKey('2024-12-30', 'W')).toBe('2024-12-30'); // the Monday itself
    expect(periodKey('2025-01-05', 'W')).toBe('2024-12-30'); // the Sunday ends that week
    expect(periodKey('2025-01-06', 'W')).toBe('2025-01-06');
    expect(periodKey('2024-02-29', 'M')).toBe('2024-02');
    expect(periodKey('2024-02-29', 'D')).toBe('2024-02-29');
  });

  it('dates a week with a Friday holiday by its Thursday, and a month by its last trading day', () => {
    const rows = [
      row('2024-03-25', 10), // Mon
      row('2024-03-26', 12),
      row('2024-03-27', 8),
      row('2024-03-28', 11), // Thu; Fri 2024-03-29 is a holiday, March 30-31 a weekend
      row('2024-04-01', 13), // Mon of the next week and month
      row('2024-04-02', 9), // the series ends mid-week: a partial last bar
    ];
    expect(resamplePriceRows(rows, 'W')).toEqual([
      { date: '2024-03-28', open: 9, high: 14, low: 5, close: 11, volume: 400 },
      { date: '2024-04-02', open: 12, high: 15, low: 6, close: 9, volume: 200 },
    ]);
    expect(resamplePriceRows(rows, 'M').map((b) => b.date)).toEqual(['2024-03-28', '2024-04-02']);
    expect(resamplePriceRows(rows, 'D')).toEqual(rows);
    expect(resamplePriceRows([], 'W')).toEqual([]);
  });

  it.each([
    [1, 'W', 0.05],
    [2, 'M', 0.05],
    [3, 'W', 0.5],
    [4, 'M', 0.9],
  ] as const)('agrees with the slow twin on seeded rows (seed %i, %s, holidays %f)', (seed, tf, skip) => {
    const rows = seededRows(seed, '2019-12-20', 1500, skip);
    const input = structuredClone(rows);
    expect(resamplePriceRows(rows, tf)).toEqual(twin(rows, tf));
    expect(rows).toEqual(input); // the input rows are left as they were
  });
});
