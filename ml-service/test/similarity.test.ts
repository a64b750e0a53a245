import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimilarResponse } from '@resemble/contracts';
import { minimalCompany } from '@resemble/contracts/store-layout';
import { loadMarketData, type MarketData } from '../src/market/market-data.js';
import { AppError } from '../src/errors.js';
import { findSimilar, type SearchOptions } from '../src/search/similarity.service.js';
import { naiveSimilar, type NaiveEntity, type NaiveRequest } from './naive-similarity.js';
import {
  businessDays,
  randomWalk,
  readRealFixture,
  rng,
  writeStore,
  type FixtureEntity,
} from './support/write-store.js';

function expectSame(fast: SimilarResponse, slow: ReturnType<typeof naiveSimilar>) {
  expect(fast.matches.map((m) => `${m.code}@${m.start}`)).toEqual(
    slow.matches.map((m) => `${m.code}@${m.start}`),
  );
  fast.matches.forEach((m, i) => {
    const s = slow.matches[i]!;
    expect(m.end).toBe(s.end);
    expect(Math.abs(m.distance - s.distance)).toBeLessThanOrEqual(
      1e-9 * Math.max(1e-300, Math.abs(s.distance)),
    );
    expect(m.forwardReturn).toBe(s.forwardReturn);
    expect(m.forwardPath).toEqual(s.forwardPath);
  });
  expect(fast.candidates).toBe(slow.candidates);
  if (fast.mode === 'history') {
    expect(fast.forecast!.baseRateUp).toBe(slow.candidates > 0 ? slow.ups / slow.candidates : null);
  }
}

function full(req: Partial<NaiveRequest> & Pick<NaiveRequest, 'query'>): NaiveRequest {
  return { topK: 10, horizon: 20, metric: 'zned', normalize: 'z', mode: 'history', ...req };
}

/** Seeded random walks of varied lengths, with flat stretches and an exact copy (distance ties). */
function syntheticMarket(seed: number): FixtureEntity[] {
  const random = rng(seed);
  const out: FixtureEntity[] = [];
  const codes = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH', 'III', 'JJJ'];
  codes.forEach((code, i) => {
    const n = 700 + Math.floor(random() * 500);
    const closes = randomWalk(random, n);
    if (i === 2) closes.fill(closes[100]!, 100, 140); // a halted stretch: flat windows must be skipped
    if (i === 3) closes.fill(closes[0]!, 0, 620); // long enough to hold flat windows of length 500
    out.push({ code, market: i % 3 === 0 ? 'JP' : 'US', dates: businessDays('2010-01-04', n), closes });
  });
  // ZZZ repeats a stretch of AAA: identical windows tie exactly and must be ordered by code.
  const a = out[0]!;
  out.push({
    code: 'ZZZ',
    market: 'US',
    dates: businessDays('2012-01-02', 400),
    closes: Float64Array.from(a.closes as Float64Array).slice(100, 500),
  });
  return out;
}

describe('fast similarity search equals the brute-force twin', () => {
  let dir: string;
  let data: MarketData;
  let entities: NaiveEntity[];
  let real: MarketData;
  let realEntities: NaiveEntity[];
  let realDir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ml-sim-'));
    const fx = syntheticMarket(42);
    writeStore(dir, fx, 'syn-1');
    data = loadMarketData(dir);
    entities = fx.map((e) => ({ ...e, closes: Array.from(e.closes) }));
    realDir = mkdtempSync(join(tmpdir(), 'ml-real-'));
    const rf = readRealFixture(join(import.meta.dirname, '..', 'fixtures', 'sp500-10-closes.csv'));
    writeStore(realDir, rf, 'real-1');
    real = loadMarketData(realDir);
    realEntities = rf;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(realDir, { recursive: true, force: true });
  });

  const check = (req: NaiveRequest, opts: SearchOptions = {}, which: 'syn' | 'real' = 'syn') => {
    const d = which === 'syn' ? data : real;
    const ents = which === 'syn' ? entities : realEntities;
    const fast = findSimilar(d, req, opts);
    const slow = naiveSimilar(ents, req, opts);
    expectSame(fast, slow);
    return { fast, slow };
  };

  it.each([
    [8, 1],
    [8, 100],
    [60, 30],
    [500, 1],
    [500, 100],
  ])('query by code, L=%i, topK=%i', (L, topK) => {
    const e = entities[1]!;
    const { fast } = check(
      full({ query: { code: e.code, start: e.dates[50]!, end: e.dates[50 + L - 1]! }, topK }),
    );
    expect(fast.query.length).toBe(L);
    expect(fast.matches.length).toBeGreaterThan(0);
  });

  it('query at the very end of a series, and exact ties broken by code', () => {
    const e = entities[0]!;
    const n = e.dates.length;
    check(full({ query: { code: e.code, start: e.dates[n - 30]!, end: e.dates[n - 1]! }, topK: 50 }));
    // A query inside the copied stretch has an exact twin in ZZZ (distance 0 ties with itself elsewhere).
    const { fast } = check(
      full({ query: { code: 'BBB', start: e.dates[10]!, end: e.dates[49]! }, topK: 100 }),
    );
    const zeroish = fast.matches.filter((m) => m.code === 'AAA' || m.code === 'ZZZ');
    expect(zeroish.length).toBeGreaterThan(0);
  });

  it('query by series on flat-containing data, both normalisations, mode now', () => {
    const random = rng(7);
    const series = Array.from(randomWalk(random, 40));
    check(full({ query: { series }, topK: 100 }));
    check(full({ query: { series }, topK: 100, normalize: 'mean' }));
    check(full({ query: { series }, topK: 5, mode: 'now' }));
    check(full({ query: { series }, topK: 5, mode: 'now', normalize: 'mean' }));
    const flat = entities[2]!;
    check(full({ query: { code: flat.code, start: flat.dates[90]!, end: flat.dates[130]! }, topK: 30 }));
  });

  it('filters: codes, market, from/to, and walk-forward options', () => {
    const e = entities[4]!;
    const query = { code: e.code, start: e.dates[300]!, end: e.dates[359]! };
    check(full({ query, topK: 20, filters: { codes: ['AAA', 'CCC', 'EEE'] } }));
    check(full({ query, topK: 20, filters: { market: 'JP' } }));
    check(full({ query, topK: 20, filters: { from: '2010-06-01', to: '2012-03-30' } }));
    check(full({ query, topK: 20, horizon: 5 }), {
      forwardEndBefore: '2011-06-01',
      excludeRanges: [{ code: 'BBB', from: '2010-03-01', to: '2010-12-31' }],
    });
  });

  it('real prices: several queries and lengths', () => {
    for (const [i, L, topK] of [
      [0, 8, 100],
      [3, 60, 30],
      [7, 250, 10],
      [9, 500, 100],
    ] as const) {
      const e = realEntities[i]!;
      check(
        full({ query: { code: e.code, start: e.dates[200]!, end: e.dates[200 + L - 1]! }, topK }),
        {},
        'real',
      );
    }
    const e = realEntities[5]!;
    check(
      full({
        query: { code: e.code, start: e.dates[700]!, end: e.dates[759]! },
        normalize: 'mean',
        topK: 30,
      }),
      {},
      'real',
    );
  });

  it('stocks moving together: the windows on the query day (the first threshold) are the best matches', () => {
    // Five scaled, slightly noisy copies of one walk on one calendar: each copy's window on the query's
    // day is among its best, so the first threshold is nearly the final one; it must never drop a match,
    // nor count a window the plan leaves out (a copy whose query day is excluded).
    const random = rng(5);
    const base = randomWalk(random, 600);
    const dates = businessDays('2015-01-05', 600);
    const fx: FixtureEntity[] = Array.from({ length: 5 }, (_, i) => ({
      code: `CO${i}`,
      market: 'US',
      dates,
      closes: Float64Array.from(base, (v) => v * (1 + i) + 0.001 * i * random()),
    }));
    const own = mkdtempSync(join(tmpdir(), 'ml-sim-together-'));
    try {
      writeStore(own, fx, 'together-1');
      const d = loadMarketData(own);
      const ents = fx.map((e) => ({ ...e, closes: Array.from(e.closes) }));
      const query = { code: 'CO0', start: dates[200]!, end: dates[259]! };
      const cases: [number, SearchOptions][] = [
        [3, {}],
        [4, {}],
        [20, {}],
        [3, { excludeRanges: [{ code: 'CO2', from: dates[190]!, to: dates[210]! }] }],
      ];
      for (const [topK, opts] of cases) {
        const req = full({ query, topK });
        expectSame(findSimilar(d, req, opts), naiveSimilar(ents, req, opts));
      }
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('DTW equals exhaustive banded DTW on small data', () => {
    const small = entities.slice(0, 4).map((x) => ({
      ...x,
      closes: Float64Array.from(x.closes).slice(0, 300),
      dates: x.dates.slice(0, 300),
    }));
    const sdir = mkdtempSync(join(tmpdir(), 'ml-dtw-'));
    try {
      writeStore(sdir, small, 'dtw-1');
      const sdata = loadMarketData(sdir);
      for (const [L, band, topK] of [
        [16, undefined, 10],
        [30, 0.2, 30],
        [12, 0, 5],
      ] as const) {
        const q = small[1]!;
        const req = full({
          query: { code: q.code, start: q.dates[40]!, end: q.dates[40 + L - 1]! },
          metric: 'dtw',
          topK,
          band,
        });
        expectSame(findSimilar(sdata, req), naiveSimilar(small, req));
      }
    } finally {
      rmSync(sdir, { recursive: true, force: true });
    }
    // Real prices: the prefix-sum stage of the DTW cascade on realistic magnitudes.
    const e = realEntities[6]!;
    check(
      full({ query: { code: e.code, start: e.dates[400]!, end: e.dates[423]! }, metric: 'dtw', topK: 15 }),
      {},
      'real',
    );
  });
});

describe('market, sector and kind filters equal the brute-force twin', () => {
  // JP issues filed under a 33業種 (code and name) and 17業種 name, US ones under a GICS sector; kinds by index.
  const SECTOR33 = [
    ['3700', '輸送用機器'],
    ['3650', '電気機器'],
  ] as const;
  const KINDS = ['stock', 'etf', 'reit'] as const;
  let dir: string;
  let data: MarketData;
  let entities: NaiveEntity[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ml-sim-filters-'));
    const fx = syntheticMarket(42);
    writeStore(dir, fx, 'syn-filters-1');
    data = loadMarketData(dir);
    entities = fx.map((e, i) => {
      const jp = e.market === 'JP';
      const [code33, name33] = SECTOR33[i % 2]!;
      const sectors = jp ? [code33, name33, '自動車・輸送機'] : [i % 2 ? 'Energy' : 'Information Technology'];
      return { ...e, closes: Array.from(e.closes), sectors, kind: KINDS[i % 3]! };
    });
    data.companies = new Map(
      entities.map((e) => {
        const jp = e.market === 'JP';
        return [
          e.code,
          {
            ...minimalCompany({ code: e.code, name: e.code, market: e.market ?? 'US' }),
            sector33_code: jp ? e.sectors![0]! : null,
            sector33_name: jp ? e.sectors![1]! : null,
            sector17_name: jp ? e.sectors![2]! : null,
            gics_sector: jp ? null : e.sectors![0]!,
            kind: e.kind as (typeof KINDS)[number],
          },
        ];
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const query = () => {
    const e = entities[4]!;
    return { code: e.code, start: e.dates[300]!, end: e.dates[359]! };
  };
  const FILTERS: NonNullable<NaiveRequest['filters']>[] = [
    { sector: 'Energy' },
    { sector: '輸送用機器' },
    { sector: '3650' },
    { sector: '自動車・輸送機' },
    { kind: 'etf' },
    { market: 'US', sector: 'Information Technology', kind: 'reit' },
    { market: 'JP', kind: 'stock' },
  ];

  it('each filter, both normalisations and mode now: the same matches, candidates and base rate', () => {
    for (const filters of FILTERS) {
      for (const extra of [{}, { normalize: 'mean' as const }, { mode: 'now' as const, topK: 5 }]) {
        const req = full({ query: query(), topK: 25, filters, ...extra });
        const fast = findSimilar(data, req);
        expectSame(fast, naiveSimilar(entities, req));
        expect(fast.matches.length, JSON.stringify(filters)).toBeGreaterThan(0);
      }
    }
  });

  it('filtering the stocks, then searching, equals searching all of them, then keeping those that pass', () => {
    const passes = (e: NaiveEntity, f: NonNullable<NaiveRequest['filters']>) =>
      (!f.market || (e.market ?? 'US') === f.market) &&
      (!f.sector || e.sectors!.includes(f.sector)) &&
      (!f.kind || e.kind === f.kind);
    const byCode = new Map(entities.map((e) => [e.code, e]));
    // Every window of every stock, ranked: the exact search with no cut-off.
    const everything = naiveSimilar(entities, full({ query: query(), topK: 1_000_000 })).matches;
    for (const filters of FILTERS) {
      const fast = findSimilar(data, full({ query: query(), topK: 25, filters }));
      const want = everything.filter((m) => passes(byCode.get(m.code)!, filters)).slice(0, 25);
      expect(fast.matches.map((m) => `${m.code}@${m.start}`)).toEqual(
        want.map((m) => `${m.code}@${m.start}`),
      );
      fast.matches.forEach((m, i) =>
        expect(Math.abs(m.distance - want[i]!.distance)).toBeLessThanOrEqual(1e-9 * want[i]!.distance),
      );
    }
  });

  it('a market or sector no stock is filed under is a 400 unknown_filter naming it and the choices', () => {
    for (const [filters, field, allowed] of [
      [{ sector: 'Energie' }, 'sector', ['Energy', 'Information Technology', '輸送用機器', '電気機器']],
      [{ market: 'XX' }, 'market', ['JP', 'US']],
    ] as const) {
      let err: unknown;
      try {
        findSimilar(data, full({ query: query(), filters }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      const e = err as AppError;
      expect([e.status, e.code]).toEqual([400, 'unknown_filter']);
      expect(e.message).toContain(`filters.${field}`);
      expect(e.details).toEqual({ field, value: Object.values(filters)[0], allowed });
    }
    // Known values that no stock has together are a search with no matches, not an error.
    const none = findSimilar(data, full({ query: query(), filters: { market: 'JP', sector: 'Energy' } }));
    expect([none.matches, none.candidates]).toEqual([[], 0]);
  });
});
