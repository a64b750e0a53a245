import { describe, expect, it } from 'vitest';
import { isoDateSchema, priceRowSchema } from '@resemble/contracts';
import { isIsoDate, latestAllowedDate, validateRows } from './validate.js';
import { seededRandom } from '../../test/helpers.js';

const ok = { open: 10, high: 11, low: 9, close: 10.5, volume: 100 };
const NOW = new Date('2024-06-01T12:00:00Z');

describe('isIsoDate', () => {
  it('agrees with the contract schema on seeded random strings and edge cases', () => {
    const rnd = seededRandom(7);
    const cases = [
      '2024-02-29',
      '2023-02-29',
      '1900-02-29',
      '2000-02-29',
      '2024-04-31',
      '2024-00-10',
      '2024-1-01',
      '2024/01/01',
      '20240101',
      '',
    ];
    for (let i = 0; i < 3000; i++) {
      const y = 1800 + Math.floor(rnd() * 400);
      const m = Math.floor(rnd() * 14);
      const d = Math.floor(rnd() * 33);
      cases.push(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    }
    for (const c of cases) expect(isIsoDate(c), c).toBe(isoDateSchema.safeParse(c).success);
  });
});

describe('latestAllowedDate', () => {
  it('allows the current date in the earliest time zone (UTC+14)', () => {
    expect(latestAllowedDate(new Date('2024-06-01T09:59:00Z'))).toBe('2024-06-01');
    expect(latestAllowedDate(new Date('2024-06-01T10:00:00Z'))).toBe('2024-06-02');
  });
});

describe('validateRows', () => {
  it('keeps good rows sorted and rejects each bad row with its reason', () => {
    const { good, rejected } = validateRows(
      [
        { date: '2024-01-03', ...ok },
        { date: '2024-01-02', ...ok },
        { date: '2024-01-02', ...ok, close: 10 },
        { date: '2024-02-30', ...ok },
        { date: '2024-06-03', ...ok },
        { date: '2024-01-04', ...ok, open: 0 },
        { date: '2024-01-05', ...ok, low: -1 },
        { date: '2024-01-08', ...ok, low: 10.6 },
        { date: '2024-01-09', ...ok, high: 10.4 },
        { date: '2024-01-10', ...ok, close: Number.NaN },
        { date: '2024-01-11', ...ok, volume: -1 },
        { date: '2024-01-12', ...ok, volume: 1.5 },
        { date: '2024-01-15', ...ok, low: 10, open: 10, volume: 0 },
      ],
      NOW,
    );
    expect(good.map((r) => r.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-15']);
    expect(good[0].close).toBe(10.5);
    expect(rejected.map((r) => [r.date, r.reason])).toEqual([
      ['2024-01-02', 'duplicate_date'],
      ['2024-02-30', 'invalid_date'],
      ['2024-06-03', 'future_date'],
      ['2024-01-04', 'non_positive_price'],
      ['2024-01-05', 'non_positive_price'],
      ['2024-01-08', 'ohlc_inconsistent'],
      ['2024-01-09', 'ohlc_inconsistent'],
      ['2024-01-10', 'invalid_number'],
      ['2024-01-11', 'invalid_volume'],
      ['2024-01-12', 'invalid_volume'],
    ]);
  });

  it('accepts exactly the rows the contract schema plus the OHLC rules accept (seeded fuzz)', () => {
    const rnd = seededRandom(11);
    const pick = () => [-1, 0, 5, 10, 15, Number.NaN][Math.floor(rnd() * 6)];
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      date: i % 17 === 0 ? '2024-02-30' : new Date(Date.UTC(2000, 0, 1 + i)).toISOString().slice(0, 10),
      open: pick(),
      high: pick(),
      low: pick(),
      close: pick(),
      volume: [0, 3, -2, 2.5][Math.floor(rnd() * 4)],
    }));
    const { good } = validateRows(rows, NOW);
    const twin = rows.filter((r) => {
      const p = priceRowSchema.safeParse(r);
      if (!p.success) return false;
      const { open, high, low, close, volume } = r;
      return (
        [open, high, low, close].every((x) => x > 0) &&
        low <= Math.min(open, close) &&
        Math.max(open, close) <= high &&
        volume >= 0
      );
    });
    expect(good).toEqual(twin);
    expect(good.length).toBeGreaterThan(10);
  });

  it('rejects duplicates like a naive first-wins twin, for sorted and shuffled input (seeded)', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rnd = seededRandom(seed);
      const dates = Array.from({ length: 400 }, () =>
        new Date(Date.UTC(2020, 0, 1 + Math.floor(rnd() * 300))).toISOString().slice(0, 10),
      );
      if (seed % 2 === 0) dates.sort();
      const rows = dates.map((date, i) => ({ date, ...ok, volume: i }));
      const seen = new Set<string>();
      const twinGood = rows.filter((r) => (seen.has(r.date) ? false : (seen.add(r.date), true)));
      twinGood.sort((a, b) => (a.date < b.date ? -1 : 1));
      const { good, rejected } = validateRows(rows, NOW);
      expect(good).toEqual(twinGood);
      expect(rejected).toHaveLength(rows.length - twinGood.length);
      expect(new Set(rejected.map((r) => r.reason))).toEqual(new Set(['duplicate_date']));
    }
  });
});
