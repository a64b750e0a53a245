/**
 * `npm run bench:timeframes -w ml-service`: what weekly and monthly bars cost on a seeded synthetic market
 * of 4,000 random-walk stocks x 5,000 weekdays (override with BENCH_ENTITIES, BENCH_DAYS, BENCH_QUERIES,
 * BENCH_DTW_QUERIES):
 * the one-off resampling per data version, the memory the bars add, and search latency on D, W and M
 * bars with the same L, through the same worker pool. Built in memory (no store files); asserts nothing.
 * Timings on a shared 2-core machine are noisy.
 */
import { cpus } from 'node:os';
import type { SimilarRequestInput, Timeframe } from '@resemble/contracts';
import { marketOf } from '../src/market/bars.js';
import { buildDerived, dayToIso, isoToDay, type MarketData } from '../src/market/market-data.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilarWith } from '../src/search/similarity.service.js';
import { businessDays, randomWalk, rng } from '../test/support/write-store.js';

const SEED = 20261207;
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 4000);
const DAYS = Number(process.env.BENCH_DAYS ?? 5000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 12);
const WORKERS = Number(process.env.ML_SEARCH_WORKERS ?? 2);
/** DTW searches per timeframe (the first warms up); DTW on D at full scale takes seconds each. */
const DTW_QUERIES = Number(process.env.BENCH_DTW_QUERIES ?? 3);

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function market(): MarketData {
  const random = rng(SEED);
  const days = Int32Array.from(businessDays('1990-01-01', DAYS), isoToDay);
  const offsets = new Int32Array(new SharedArrayBuffer((ENTITIES + 1) * 4));
  const allDays = new Int32Array(new SharedArrayBuffer(ENTITIES * DAYS * 4));
  const closes = new Float64Array(ENTITIES * DAYS);
  for (let e = 0; e < ENTITIES; e++) {
    offsets[e + 1] = (e + 1) * DAYS;
    closes.set(randomWalk(random, DAYS), e * DAYS);
    allDays.set(days, e * DAYS);
  }
  const codes = Array.from({ length: ENTITIES }, (_, i) => `SYN${String(i).padStart(5, '0')}`);
  return {
    ...buildDerived(offsets, closes, allDays),
    dataDir: '',
    dataVersion: 'bench',
    loadedAt: new Date().toISOString(),
    codes,
    names: codes,
    markets: codes.map(() => 'US'),
    currencies: codes.map(() => 'USD'),
    codeIndex: new Map(codes.map((c, i) => [c, i])),
    companies: new Map(),
    entities: ENTITIES,
    points: ENTITIES * DAYS,
  };
}

/** Queries of L bars of `bars`, by code and dates, as a client sends them. */
function queries(bars: MarketData, tf: Timeframe, L: number, metric: 'zned' | 'dtw'): SimilarRequestInput[] {
  const random = rng(L + tf.charCodeAt(0));
  return Array.from({ length: QUERIES }, () => {
    const e = Math.floor(random() * bars.entities);
    const a = bars.offsets[e]!;
    const s = a + Math.floor(random() * (bars.offsets[e + 1]! - a - L - 30));
    return {
      query: { code: bars.codes[e]!, start: dayToIso(bars.days[s]!), end: dayToIso(bars.days[s + L - 1]!) },
      topK: 30,
      horizon: 20,
      metric,
      timeframe: tf,
    };
  });
}

async function main() {
  console.log(`timeframes bench: ${ENTITIES} x ${DAYS} days, ${cpus().length} CPUs, ${WORKERS} workers`);
  let t = performance.now();
  const daily = market();
  console.log(
    `daily market built in memory: ${daily.points.toLocaleString('en')} points, ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  for (const tf of ['W', 'M'] as const) {
    const before = process.memoryUsage();
    t = performance.now();
    const bars = marketOf(daily, tf);
    const ms = performance.now() - t;
    const after = process.memoryUsage();
    const grown = after.rss - before.rss;
    console.log(
      `  resample to ${tf}: ${ms.toFixed(0)} ms once per data version, ${bars.points.toLocaleString('en')} bars ` +
        `(1/${(daily.points / bars.points).toFixed(1)} of D), RSS +${mib(grown)}`,
    );
  }
  const pool = new SearchPool(WORKERS);
  const run = pool.runner(daily);
  for (const metric of ['zned', 'dtw'] as const) {
    const L = 60;
    for (const tf of ['D', 'W', 'M'] as const) {
      const qs = queries(marketOf(daily, tf), tf, L, metric).slice(
        0,
        metric === 'dtw' ? DTW_QUERIES : QUERIES,
      );
      if (qs.length < 2) continue;
      const ms: number[] = [];
      for (const [i, q] of qs.entries()) {
        const t0 = performance.now();
        await findSimilarWith(daily, q, run);
        if (i > 0) ms.push(performance.now() - t0); // the first warms the JIT and the workers
      }
      console.log(`  ${metric} L=${L} topK=30 ${tf}: p50 ${median(ms).toFixed(1)} ms (n=${ms.length})`);
    }
  }
  console.log(`RSS at end: ${mib(process.memoryUsage().rss)}`);
  await pool.close();
}

await main();
