import { describe, expect, it } from 'vitest';
import {
  MAX_WINDOW,
  MIN_WINDOW,
  clampWindow,
  indexOnOrAfter,
  indexOnOrBefore,
  windowDates,
  windowFromLogical,
  windowFromPixels,
  windowFromPreset,
} from '../app/utils/selection';

/** Weekdays only, like a real trading calendar (no holidays needed for the logic). */
function tradingDays(from: string, count: number): string[] {
  const out: string[] = [];
  const d = new Date(`${from}T00:00:00Z`);
  while (out.length < count) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

// Obviously correct twin: linear scan.
const naiveOnOrBefore = (dates: string[], date: string) => {
  let f = -1;
  dates.forEach((d, i) => {
    if (d <= date) f = i;
  });
  return f;
};

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('trading-day snapping', () => {
  const dates = tradingDays('2016-01-04', 300);

  it('matches a linear scan on random dates, including weekends and out-of-range', () => {
    const rnd = seeded(42);
    const start = Date.parse('2015-12-01T00:00:00Z');
    for (let i = 0; i < 500; i++) {
      const probe = new Date(start + Math.floor(rnd() * 500) * 86_400_000).toISOString().slice(0, 10);
      expect(indexOnOrBefore(dates, probe)).toBe(naiveOnOrBefore(dates, probe));
    }
  });

  it('snaps a Saturday back to Friday and forward to Monday', () => {
    const sat = '2016-01-09';
    expect(dates[indexOnOrBefore(dates, sat)]).toBe('2016-01-08');
    expect(dates[indexOnOrAfter(dates, sat)]).toBe('2016-01-11');
    expect(indexOnOrBefore(dates, '2015-01-01')).toBe(-1);
    expect(indexOnOrAfter(dates, '2030-01-01')).toBe(-1);
  });
});

describe('clampWindow', () => {
  it('keeps a valid window unchanged', () => {
    expect(clampWindow(10, 40, 100)).toEqual({ ok: true, window: { startIndex: 10, endIndex: 40 } });
  });
  it('grows a short drag to the minimum, rightwards then leftwards at the data end', () => {
    expect(clampWindow(10, 12, 100)).toEqual({
      ok: true,
      window: { startIndex: 10, endIndex: 10 + MIN_WINDOW - 1 },
    });
    expect(clampWindow(97, 99, 100)).toEqual({
      ok: true,
      window: { startIndex: 100 - MIN_WINDOW, endIndex: 99 },
    });
  });
  it('cuts a long drag to the maximum keeping its end', () => {
    expect(clampWindow(0, 899, 1000)).toEqual({
      ok: true,
      window: { startIndex: 899 - MAX_WINDOW + 1, endIndex: 899 },
    });
  });
  it('clips to the data and refuses series shorter than the minimum', () => {
    expect(clampWindow(-20, 30, 50)).toEqual({ ok: true, window: { startIndex: 0, endIndex: 30 } });
    expect(clampWindow(0, 5, MIN_WINDOW - 1)).toEqual({ ok: false, reason: 'too_few_bars' });
  });
  it('always yields MIN..MAX bars inside the data for random drags', () => {
    const rnd = seeded(7);
    for (let i = 0; i < 1000; i++) {
      const n = MIN_WINDOW + Math.floor(rnd() * 1200);
      const a = Math.floor(rnd() * (n + 40)) - 20;
      const b = Math.floor(rnd() * (n + 40)) - 20;
      const r = clampWindow(a, b, n);
      if (!r.ok) throw new Error('unexpected failure');
      const len = r.window.endIndex - r.window.startIndex + 1;
      expect(len).toBeGreaterThanOrEqual(MIN_WINDOW);
      expect(len).toBeLessThanOrEqual(MAX_WINDOW);
      expect(r.window.startIndex).toBeGreaterThanOrEqual(0);
      expect(r.window.endIndex).toBeLessThan(n);
    }
  });
});

describe('drag → window', () => {
  it('rounds fractional logical positions to whole bars in either drag direction', () => {
    expect(windowFromLogical(20.4, 50.6, 100)).toEqual({
      ok: true,
      window: { startIndex: 20, endIndex: 51 },
    });
    expect(windowFromLogical(50.6, 20.4, 100)).toEqual(windowFromLogical(20.4, 50.6, 100));
  });
  it('maps pixels through the chart mapping and rejects drags off the data', () => {
    const toLogical = (x: number) => (x < 0 ? null : x / 10); // 10 px per bar
    expect(windowFromPixels(100, 400, toLogical, 100)).toEqual({
      ok: true,
      window: { startIndex: 10, endIndex: 40 },
    });
    expect(windowFromPixels(-5, 400, toLogical, 100)).toEqual({ ok: false, reason: 'date_out_of_range' });
  });
});

describe('preset → window', () => {
  const dates = tradingDays('2016-01-04', 400);
  it('takes N trading days ending on the last trading day on or before the date', () => {
    const r = windowFromPreset(dates, 30, '2016-06-05'); // a Sunday
    if (!r.ok) throw new Error('expected ok');
    const w = windowDates(dates, r.window);
    expect(w.end).toBe('2016-06-03');
    expect(w.length).toBe(30);
  });
  it('shortens at the start of history but never below the minimum', () => {
    const r = windowFromPreset(dates, 250, '2016-02-01');
    if (!r.ok) throw new Error('expected ok');
    expect(r.window.startIndex).toBe(0);
    expect(dates[r.window.endIndex]).toBe('2016-02-01');
    const early = windowFromPreset(dates, 30, '2016-01-05');
    if (!early.ok) throw new Error('expected ok');
    expect(early.window.endIndex - early.window.startIndex + 1).toBe(MIN_WINDOW);
  });
  it('rejects an end date before the data', () => {
    expect(windowFromPreset(dates, 30, '2010-01-01')).toEqual({ ok: false, reason: 'date_out_of_range' });
  });
});
