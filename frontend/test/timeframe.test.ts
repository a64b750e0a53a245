import { describe, expect, it } from 'vitest';
import { mulberry32, resamplePriceRows, type PriceRow, type Timeframe } from '@resemble/contracts';
import { MAX_WINDOW, MIN_WINDOW, clampWindow } from '../app/utils/selection';
import { DEFAULT_HORIZON, DEFAULT_PRESET, HORIZON_BARS, PRESET_BARS, TIMEFRAMES, carrySelection, isTimeframe } from '../app/utils/timeframe';

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
          expect(carrySelection(dates[a], dates[b], { startIndex: s, endIndex: e }), `${a}->${b} ${s}..${e}`).toEqual(
            twinCarry(dates[a], dates[b], s, e),
          );
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
    expect(back.ok && [d[back.window.startIndex], d[back.window.endIndex]]).toEqual(['2019-03-04', '2019-05-31']);
  });

  it('keeps to the limits: too few new bars grow to the minimum, and a bad window is refused', () => {
    const d = dates.D;
    const m = carrySelection(d, dates.M, { startIndex: 100, endIndex: 130 }); // ~1.5 months: 2-3 bars
    expect(m.ok && m.window.endIndex - m.window.startIndex + 1).toBe(MIN_WINDOW);
    expect(carrySelection(d, dates.W, { startIndex: 5, endIndex: d.length + 3 })).toEqual({ ok: false, reason: 'date_out_of_range' });
  });
});
