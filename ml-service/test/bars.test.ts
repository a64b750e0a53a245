/**
 * Weekly and monthly bars (bars.ts) against a slow twin that resamples the same way from date strings,
 * and W/M searches against the brute-force search twin run over the twin's bars.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodKey, type SimilarResponse, type Timeframe } from '@resemble/contracts';
import { barArrays, marketOf, nextPeriodStart } from '../src/market/bars.js';
import { forecastFromOutcomes } from '../src/forecast/forecast.js';
import { dayToIso, isoToDay, loadMarketData, type MarketData } from '../src/market/market-data.js';
import { createPredictorRegistry } from '../src/predictors/registry.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilar, findSimilarWith } from '../src/search/similarity.service.js';
import { naiveSimilar, type NaiveEntity, type NaiveRequest } from './naive-similarity.js';
import { businessDays, randomWalk, rng, writeStore, type FixtureEntity } from './support/write-store.js';

/**
 * The twin: a bar per run of rows whose periods are equal, the period read off the date string (the
 * Sunday closing the week, found by stepping a Date forward; the month as 'YYYY-MM'). Bar = last row.
 */
function twinBars(e: NaiveEntity, timeframe: 'W' | 'M'): NaiveEntity {
  const period = (iso: string) => {
    if (timeframe === 'M') return iso.slice(0, 7);
    const d = new Date(`${iso}T00:00:00Z`);
    while (d.getUTCDay() !== 0) d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  };
  const dates: string[] = [];
  const closes: number[] = [];
  e.dates.forEach((iso, i) => {
    const last = i === e.dates.length - 1 || period(e.dates[i + 1]!) !== period(iso);
    if (last) {
      dates.push(iso);
      closes.push(e.closes[i]!);
    }
  });
  return { ...e, dates, closes };
}

/**
 * Seeded walks on weekday calendars with random holidays, plus the edge cases: a week whose Friday is a
 * holiday, a month whose last weekday is a holiday (so it ends on its second-last), a series that ends
 * mid-week and mid-month, and stocks too short for a query of 8 bars.
 */
function fixture(seed: number): FixtureEntity[] {
  const random = rng(seed);
  const out: FixtureEntity[] = [];
  for (let i = 0; i < 8; i++) {
    const all = businessDays('2009-12-28', 2600 + Math.floor(random() * 400));
    const dates = all.filter(
      (d) => random() > 0.04 && d !== '2012-03-30' /* a Friday */ && d !== '2013-05-31' /* a Friday */,
    );
    out.push({ code: `S${i}`, market: i % 2 ? 'JP' : 'US', dates, closes: randomWalk(random, dates.length) });
  }
  // Ends on Wednesday 2015-06-17: a partial last week and month.
  const partial = businessDays('2011-01-03', 1200).filter((d) => d <= '2015-06-17');
  out.push({ code: 'PART', dates: partial, closes: randomWalk(random, partial.length) });
  // 30 days = 7 weekly bars, 2 monthly bars: shorter than any query.
  const short = businessDays('2014-02-03', 30);
  out.push({ code: 'SHORT', dates: short, closes: randomWalk(random, short.length) });
  // A halted stretch: flat weekly and monthly windows must be skipped.
  const halted = businessDays('2010-01-04', 2000);
  const closes = randomWalk(random, halted.length);
  closes.fill(closes[400]!, 400, 700);
  out.push({ code: 'HALT', dates: halted, closes });
  return out;
}

function expectSame(fast: SimilarResponse, slow: ReturnType<typeof naiveSimilar>) {
  expect(fast.matches.map((m) => `${m.code}@${m.start}..${m.end}`)).toEqual(
    slow.matches.map((m) => `${m.code}@${m.start}..${m.end}`),
  );
  fast.matches.forEach((m, i) => {
    const s = slow.matches[i]!;
    expect(Math.abs(m.distance - s.distance)).toBeLessThanOrEqual(1e-9 * Math.max(1e-300, s.distance));
    expect(m.forwardReturn).toBe(s.forwardReturn);
    expect(m.forwardPath).toEqual(s.forwardPath);
  });
  expect(fast.candidates).toBe(slow.candidates);
  if (fast.mode === 'history')
    expect(fast.forecast!.baseRateUp).toBe(slow.candidates > 0 ? slow.ups / slow.candidates : null);
}

describe('period boundaries', () => {
  it('nextPeriodStart is the first day of the next contracts period, every day of 1899..2101', () => {
    for (const tf of ['W', 'M'] as const) {
      for (let day = -25_600; day < 48_000; day++) {
        const next = nextPeriodStart(day, tf);
        const key = periodKey(dayToIso(day), tf);
        const ok =
          next > day && periodKey(dayToIso(next - 1), tf) === key && periodKey(dayToIso(next), tf) !== key;
        if (!ok) throw new Error(`${tf} wrong at ${dayToIso(day)}: ${dayToIso(next)}`);
      }
    }
    expect(dayToIso(nextPeriodStart(isoToDay('2024-02-29'), 'M'))).toBe('2024-03-01');
    expect(dayToIso(nextPeriodStart(isoToDay('2024-12-31'), 'M'))).toBe('2025-01-01');
    expect(dayToIso(nextPeriodStart(isoToDay('2024-12-31'), 'W'))).toBe('2025-01-06');
  });
});

describe('weekly and monthly bars equal the slow twin', () => {
  let dir: string;
  let daily: MarketData;
  let entities: NaiveEntity[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ml-bars-'));
    const fx = fixture(11);
    writeStore(dir, fx, 'bars-1');
    daily = loadMarketData(dir);
    entities = fx.map((e) => ({ ...e, closes: Array.from(e.closes) }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const barsOf = (tf: Timeframe) => (tf === 'D' ? entities : entities.map((e) => twinBars(e, tf)));

  it.each(['W', 'M'] as const)('%s: rows, closes and dates per entity, resampled once', (tf) => {
    const market = marketOf(daily, tf);
    expect(marketOf(daily, tf)).toBe(market); // cached with the data
    expect(barArrays(daily, tf).closes).toBe(market.closes);
    expect(() => barArrays(market, tf)).toThrow(/daily/);
    const twin = barsOf(tf);
    expect(market.points).toBe(twin.reduce((s, e) => s + e.dates.length, 0));
    for (const e of twin) {
      const i = market.codeIndex.get(e.code)!;
      const a = market.offsets[i]!;
      const b = market.offsets[i + 1]!;
      expect(Array.from(market.closes.subarray(a, b))).toEqual(e.closes);
      expect(Array.from(market.days.subarray(a, b), dayToIso)).toEqual(e.dates);
    }
    // The edge cases are there: the holiday Friday's week ends on Thursday, the partial week on Wednesday.
    const s0 = twin.find((e) => e.code === 'S0')!;
    if (tf === 'W') expect(s0.dates).toContain('2012-03-29');
    if (tf === 'M') expect(s0.dates.filter((d) => d.startsWith('2013-05'))).toEqual(['2013-05-30']);
    expect(twin.find((e) => e.code === 'PART')!.dates.at(-1)).toBe('2015-06-17');
  });

  const requests = (tf: 'W' | 'M'): NaiveRequest[] => {
    const s1 = barsOf(tf).find((e) => e.code === 'S1')!;
    const L = tf === 'W' ? 26 : 12;
    const at = Math.floor(s1.dates.length / 3);
    const byCode = { code: 'S1', start: s1.dates[at]!, end: s1.dates[at + L - 1]! };
    const base = {
      topK: 10,
      horizon: tf === 'W' ? 8 : 3,
      metric: 'zned',
      normalize: 'z',
      mode: 'history',
    } as const;
    const series = Array.from(randomWalk(rng(5), 9));
    return [
      { ...base, query: byCode },
      { ...base, query: byCode, topK: 100, normalize: 'mean' },
      { ...base, query: byCode, metric: 'dtw', band: 0.2 },
      { ...base, query: byCode, filters: { from: '2012-01-01', to: '2014-12-31' } },
      { ...base, query: byCode, filters: { market: 'JP' } },
      { ...base, query: { series }, topK: 50 },
      { ...base, query: { series }, mode: 'now' },
      // The query ends on the partial last week/month of its stock.
      {
        ...base,
        query: {
          code: 'PART',
          start: barsOf(tf)
            .find((e) => e.code === 'PART')!
            .dates.at(-8)!,
          end: '2015-06-17',
        },
      },
      { ...base, query: { code: 'HALT', start: '2011-06-01', end: '2013-06-30' }, topK: 30 },
    ];
  };

  it.each(['W', 'M'] as const)('%s: searches equal the brute-force twin over the twin bars', (tf) => {
    for (const req of requests(tf)) {
      const fast = findSimilar(daily, { ...req, timeframe: tf });
      expect(fast.timeframe).toBe(tf);
      expectSame(fast, naiveSimilar(barsOf(tf), req));
    }
  });

  it.each(['W', 'M'] as const)('%s: the same on the worker pool (each worker gets the bars)', async (tf) => {
    const pool = new SearchPool(2, 0, 0);
    try {
      for (const req of requests(tf).slice(0, 4)) {
        const got = await findSimilarWith(daily, { ...req, timeframe: tf }, pool.runner(daily));
        expectSame(got, naiveSimilar(barsOf(tf), req));
      }
      // Alternating timeframes on the same workers still answers each one's own bars.
      const d = await findSimilarWith(daily, requests(tf)[5]!, pool.runner(daily));
      expectSame(d, naiveSimilar(entities, requests(tf)[5]!));
    } finally {
      await pool.close();
    }
  });

  it('counts L in bars: too few bars is a 400 naming the timeframe', () => {
    const query = { code: 'S2', start: '2012-01-02', end: '2012-02-10' }; // 6 weeks, ~29 days
    expect(findSimilar(daily, { query }).query.length).toBeGreaterThanOrEqual(8);
    expect(() => findSimilar(daily, { query, timeframe: 'W' })).toThrow(/weekly bars; it needs 8 to 500/);
    expect(() =>
      findSimilar(daily, {
        query: { code: 'SHORT', start: '2014-01-01', end: '2015-01-01' },
        timeframe: 'M',
      }),
    ).toThrow(/2 monthly bars/);
  });

  it('predict: the analogue and baseline forecasts run on bars; brainjs is refused for W and M', () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'ml-bars-models-'));
    const registry = createPredictorRegistry({ getData: () => daily, modelsDir, watch: false });
    try {
      const s1 = barsOf('W').find((e) => e.code === 'S1')!;
      const query = { code: 'S1', start: s1.dates[100]!, end: s1.dates[129]! };
      const p = registry.predict('analogue', query, 6, { timeframe: 'W' });
      // The analogue forecast is the similar search's over weekly bars, with the query's own stock
      // excluded within ± horizon bars of it.
      const slow = naiveSimilar(
        barsOf('W'),
        { query, topK: 30, horizon: 6, metric: 'zned', normalize: 'z', mode: 'history' },
        { excludeRanges: [{ code: 'S1', from: s1.dates[94]!, to: s1.dates[135]! }] },
      );
      // Each outcome's forward period runs over the dates of the weekly bars after its match.
      const weeks = new Map(barsOf('W').map((e) => [e.code, e.dates]));
      const spanOf = (code: string, end: string) => {
        const dates = weeks.get(code)!;
        const i = dates.indexOf(end);
        return { from: isoToDay(dates[i + 1]!), to: isoToDay(dates[i + 6]!) };
      };
      expect(p.forecast).toEqual(
        forecastFromOutcomes(
          slow.matches.map((m) => ({
            forwardReturn: m.forwardReturn!,
            forwardPath: m.forwardPath,
            forwardSpan: spanOf(m.code, m.end),
          })),
          6,
          slow.ups / slow.candidates,
          'analogues',
        ),
      );
      expect(p.forecast.n).toBe(30);
      const daily6 = registry.predict('analogue', query, 6);
      expect(daily6.forecast.median).not.toBe(p.forecast.median);
      const long = { code: 'S1', start: s1.dates[100]!, end: s1.dates[199]! }; // 23 months
      expect(registry.predict('baseline', long, 6, { timeframe: 'M' }).forecast.fan).toHaveLength(6);
      expect(() => registry.predict('brainjs', query, 6, { timeframe: 'W' })).toThrow(
        /trained on daily bars/,
      );
    } finally {
      registry.close();
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });
});
