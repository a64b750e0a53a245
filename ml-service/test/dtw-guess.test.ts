import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SimilarRequestInput } from '@resemble/contracts';
import { dayToIso } from '../src/market/market-data.js';
import { marketFromEntities, randomWalkEntities } from '../src/predictors/synthetic-market.js';
import { dtwGuess } from '../src/search/dtw-guess.js';
import { scanShard } from '../src/search/scan.js';
import { buildPlan } from '../src/search/search-plan.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilar, findSimilarWith } from '../src/search/similarity.service.js';
import { TauBoard } from '../src/search/top-picks.js';
import { naiveNormalize, naiveSimilar, type NaiveEntity, type NaiveRequest } from './naive-similarity.js';
import { windowQuery } from './support/window-query.js';

// Decision 135: a heavy DTW search first guesses its threshold from every few stocks, scans with it, and
// runs again in full when fewer than K picks fall below the guess. Every path must equal the slow twin.
const raw = randomWalkEntities(135, 30, 260);
const market = marketFromEntities(raw);
const entities: NaiveEntity[] = raw.map((e) => ({ ...e, closes: Array.from(e.closes) }));
const L = 24;
const request = (entity: number, from: number, topK: number): SimilarRequestInput => {
  return {
    query: windowQuery(market, entity, from, L),
    topK,
    horizon: 10,
    metric: 'dtw',
    band: 0.2,
  };
};

/** The answer of the exhaustive twin, as (code@start, distance). */
function slow(req: SimilarRequestInput): [string, number][] {
  return naiveSimilar(entities, { normalize: 'z', mode: 'history', ...req } as NaiveRequest).matches.map(
    (m) => [`${m.code}@${m.start}`, m.distance],
  );
}

function expectTwin(
  req: SimilarRequestInput,
  got: { matches: { code: string; start: string; distance: number }[] },
) {
  const want = slow(req);
  expect(got.matches.map((m) => `${m.code}@${m.start}`)).toEqual(want.map((w) => w[0]));
  got.matches.forEach((m, i) => {
    const d = want[i]![1];
    expect(Math.abs(m.distance - d)).toBeLessThanOrEqual(1e-9 * Math.max(1e-300, d));
  });
}

const saved = { ...dtwGuess };
afterEach(() =>
  Object.assign(dtwGuess, { stride: saved.stride, margin: saved.margin, widen: saved.widen, enabled: true }),
);

describe('guessed DTW threshold (decision 135)', () => {
  it('a guess too high: verified in one scan, equal to the twin', () => {
    // Every 2nd stock's (100 / 2 · 1.6)-th pick is about the full search's 160th, above its 100th.
    Object.assign(dtwGuess, { stride: 2, margin: 1.6 });
    for (const [e, from] of [
      [3, 40],
      [17, 120],
    ] as const) {
      const req = request(e, from, 100);
      const before = { ...dtwGuess };
      const got = findSimilar(market, req);
      expect(dtwGuess.guessed - before.guessed).toBe(1);
      expect(dtwGuess.rescanned - before.rescanned).toBe(0);
      expectTwin(req, got);
    }
  });

  it.each([
    // widened 1000x in squared distance: the second guess is far too high, so it is verified
    ['widened, verified', 1000, 1],
    // "widened" by 1: the second guess is as low as the first, and the search runs in full
    ['too low again, in full', 1, 2],
  ])('a guess too low: found out, searched again (%s), equal to the twin', (_, widen, rescans) => {
    // Every 2nd stock's (100 / 2 · 0.3)-th pick is about the full search's 30th: far too few below it.
    Object.assign(dtwGuess, { stride: 2, margin: 0.3, widen });
    for (const [e, from] of [
      [5, 10],
      [29, 230],
    ] as const) {
      const req = request(e, from, 100);
      const before = { ...dtwGuess };
      const got = findSimilar(market, req);
      expect(dtwGuess.guessed - before.guessed).toBe(1);
      expect(dtwGuess.rescanned - before.rescanned).toBe(rescans);
      expectTwin(req, got);
    }
  });

  it('a scan with a guessed threshold finds exactly the twin picks below the guess', () => {
    const req = request(8, 60, 100);
    const want = slow(req);
    const a = market.offsets[8]!;
    const qn = Float64Array.from(naiveNormalize(Array.from(market.closes.slice(a + 60, a + 60 + L)), 'z')!);
    const plan = buildPlan(market, {
      L,
      horizon: 10,
      mode: 'history',
      entities: Array.from({ length: market.entities }, (_, i) => i),
      // the twin leaves out the windows overlapping the query's own
      exclude: new Map([[8, [[market.days[a + 60]!, market.days[a + 60 + L - 1]!]]]]),
    });
    for (const at of [10, 40, 99]) {
      // Halfway between two of the twin's picks: clear of rounding at the boundary.
      const g = ((want[at - 1]![1] + want[at]![1]) / 2) ** 2;
      const spec = {
        metric: 'dtw' as const,
        normalize: 'z' as const,
        qn,
        topK: 100,
        horizon: 10,
        mode: 'history' as const,
        band: Math.floor(0.2 * L),
        upCounts: null,
        queryStartDay: market.days[a + 60]!,
        timeframe: 'D' as const,
        tauGuess: g,
      };
      const r = scanShard(market, spec, plan, new TauBoard(null, 0, 1), 0, 1);
      const below = r.picks
        .filter((p) => p.d2 < g)
        .map((p) => `${market.codes[p.entity]}@${dayToIso(market.days[p.start]!)}`);
      expect(below).toEqual(want.slice(0, at).map((w) => w[0]));
    }
  });

  describe('through the worker pool', () => {
    const pool = new SearchPool(2, 0, 0);
    afterAll(() => pool.close());
    it('guessed searches split over two workers equal the twin', async () => {
      Object.assign(dtwGuess, { stride: 2, margin: 1.6 });
      for (const [e, from] of [
        [2, 30],
        [21, 150],
      ] as const) {
        const req = request(e, from, 100);
        const guessed = dtwGuess.guessed;
        expectTwin(req, await findSimilarWith(market, req, pool.runner(market)));
        expect(dtwGuess.guessed).toBe(guessed + 1);
      }
    });
  });
});
