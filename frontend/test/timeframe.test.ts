import { describe, expect, it } from 'vitest';
import { mulberry32, resamplePriceRows, type PriceRow, type Timeframe } from '@resemble/contracts';
import { MAX_WINDOW, MIN_WINDOW, clampWindow } from '../app/utils/selection';
import en from '../i18n/locales/en.json';
import ja from '../i18n/locales/ja.json';
import {
  DEFAULT_HORIZON,
  DEFAULT_PRESET,
  HORIZON_BARS,
  PRESET_BARS,
  TIMEFRAMES,
  carrySelection,
  isTimeframe,
} from '../app/utils/timeframe';

/** Weekdays from 2018 with random holidays, as daily rows. */
function dailyRows(seed: number, count: number): PriceRow[] {
  const random = mulberry32(seed);
  const out: PriceRow[] = [];
  const d = new Date('2018-01-01T00:00:00Z');
  while (out.length < count) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6 && random() > 0.05) {
      out.push({ date: d.toISOString().slice(0, 10), open: 1, high: 1, low: 1, close: 1, volume: 1 });
    }
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/**
 * The twin: bar j of a timeframe holds the days after bar j-1's date up to its own. The new window is
 * every new bar that shares a day with the old window, from the first to the last.
 */
function twinCarry(from: string[], to: string[], s: number, e: number) {
  const after = s > 0 ? from[s - 1]! : '';
  const hits = to.map((d, j) => j).filter((j) => to[j]! > after && (j === 0 ? '' : to[j - 1]!) < from[e]!);
  return clampWindow(hits[0]!, hits[hits.length - 1]!, to.length);
}

describe('timeframe choices', () => {
  it('offer windows and look-aheads the search accepts, with defaults among them', () => {
    for (const tf of TIMEFRAMES) {
      for (const n of PRESET_BARS[tf]) expect(n >= MIN_WINDOW && n <= MAX_WINDOW).toBe(true);
      expect(PRESET_BARS[tf]).toContain(DEFAULT_PRESET[tf]);
      expect(HORIZON_BARS[tf]).toContain(DEFAULT_HORIZON[tf]);
      for (const h of HORIZON_BARS[tf]) expect(h >= 1 && h <= 250).toBe(true);
    }
    expect(TIMEFRAMES.filter(isTimeframe)).toEqual(['D', 'W', 'M']);
    expect(isTimeframe('weekly')).toBe(false);
    expect(isTimeframe(undefined)).toBe(false);
  });
});

describe('carrySelection', () => {
  const rows = dailyRows(7, 2600);
  const dates: Record<Timeframe, string[]> = {
    D: rows.map((r) => r.date),
    W: resamplePriceRows(rows, 'W').map((r) => r.date),
    M: resamplePriceRows(rows, 'M').map((r) => r.date),
  };

  it('equals the overlap twin for random windows between every pair of timeframes', () => {
    const random = mulberry32(99);
    for (const a of TIMEFRAMES) {
      for (const b of TIMEFRAMES) {
        for (let k = 0; k < 300; k++) {
          const n = dates[a].length;
          const s = k === 0 ? 0 : Math.floor(random() * (n - 1));
          const e = k === 1 ? n - 1 : Math.min(n - 1, s + Math.floor(random() * 200));
          expect(
            carrySelection(dates[a], dates[b], { startIndex: s, endIndex: e }),
            `${a}->${b} ${s}..${e}`,
          ).toEqual(twinCarry(dates[a], dates[b], s, e));
        }
      }
    }
  });

  it('D -> W takes the weeks holding the days; W -> D all the days of the weeks', () => {
    const d = dates.D;
    const mon = d.indexOf('2019-03-04');
    const fri = d.indexOf('2019-05-31');
    const w = carrySelection(d, dates.W, { startIndex: mon, endIndex: fri });
    expect(w.ok && dates.W[w.window.endIndex]).toBe('2019-05-31');
    expect(w.ok && dates.W[w.window.startIndex]).toMatch(/^2019-03-0[5-8]$/); // the Friday or an earlier last day
    const back = carrySelection(dates.W, d, w.ok ? w.window : { startIndex: 0, endIndex: 0 });
    expect(back.ok && [d[back.window.startIndex], d[back.window.endIndex]]).toEqual([
      '2019-03-04',
      '2019-05-31',
    ]);
  });

  it('keeps to the limits: too few new bars grow to the minimum, and a bad window is refused', () => {
    const d = dates.D;
    const m = carrySelection(d, dates.M, { startIndex: 100, endIndex: 130 }); // ~1.5 months: 2-3 bars
    expect(m.ok && m.window.endIndex - m.window.startIndex + 1).toBe(MIN_WINDOW);
    expect(carrySelection(d, dates.W, { startIndex: 5, endIndex: d.length + 3 })).toEqual({
      ok: false,
      reason: 'date_out_of_range',
    });
  });
});

describe('timeframe strings', () => {
  const keys = (o: unknown, prefix = ''): string[] =>
    typeof o === 'object' && o !== null
      ? Object.entries(o).flatMap(([k, v]) => keys(v, `${prefix}${k}.`))
      : [prefix.slice(0, -1)];

  it('name the bars 日足/週足/月足 and Daily/Weekly/Monthly, with the same keys in both languages', () => {
    expect([ja.timeframe.D, ja.timeframe.W, ja.timeframe.M]).toEqual(['日足', '週足', '月足']);
    expect([en.timeframe.D, en.timeframe.W, en.timeframe.M]).toEqual(['Daily', 'Weekly', 'Monthly']);
    expect(keys(ja.timeframe).sort()).toEqual(keys(en.timeframe).sort());
    for (const tf of TIMEFRAMES)
      for (const key of ['span', 'bars', 'clamped', 'length', 'ahead'] as const)
        expect(en.timeframe[key][tf]).toBeTruthy();
    // Daily horizons keep the results section's wording; weekly and monthly ones have their own.
    expect([en.timeframe.over.W, en.timeframe.over.M, ja.timeframe.over.W, ja.timeframe.over.M]).toEqual([
      'over {n} weeks',
      'over {n} months',
      '{n}週後',
      '{n}か月後',
    ]);
  });

  it('say a weekly or monthly horizon in weeks or months for every explanation', () => {
    const verdicts = [
      'explainNone',
      'explainTooFew',
      'explainNoDifference',
      'explainHigher',
      'explainLower',
      'explainNet',
    ] as const;
    for (const locale of [en, ja]) {
      // The same sentences as the daily ones in results (what explainForecast can answer), no more, no fewer.
      expect(Object.keys(locale.timeframe.explain).sort()).toEqual([...verdicts].sort());
      for (const e of verdicts) expect(locale.results[e]).toBeTruthy();
    }
    for (const e of verdicts) {
      for (const locale of [en, ja]) {
        const text = locale.timeframe.explain[e];
        expect(text.includes('{span}') || e === 'explainNone').toBe(true);
        expect(text).not.toMatch(/\{h\}/);
      }
    }
  });
});
