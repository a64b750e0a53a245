/**
 * DTW alone on the bench market, single thread (no pool, so runs compare like for like): CPU time per
 * query and what each stage of the cascade pruned. The issue-14 rows of `npm run bench` use the same
 * queries (seed 62 + L). Used to measure each kernel change A against B in one run:
 *   node --import tsx bench/dtw-focus.ts [L=60] [queries=5] [topK=30] [kernels=native,native:scalar,wasm]
 * (native:scalar is the native kernel's portable one-window-at-a-time path; native:improved adds LB_Improved;
 * native:rows computes the DTW row by row instead of by anti-diagonals.)
 * BENCH_DEMO_DATA=<store dir> runs on that store instead of the synthetic market.
 */
import type { SimilarRequestInput } from '@resemble/contracts';
import { chooseDtwKernel, DTW_STAGES, DTW_STAT, dtwProbe } from '../src/dtw-search.js';
import { dayToIso, type MarketData } from '../src/market-data.js';
import { loadInWorkers } from '../src/market-state.js';
import { findSimilar } from '../src/similarity.service.js';
import { rng } from '../test/support/write-store.js';
import { syntheticMarketDir } from './synthetic-market.js';

const L = Number(process.argv[2] ?? 60);
const N = Number(process.argv[3] ?? 5);
const topK = Number(process.argv[4] ?? 30);
const kernels = (process.argv[5] ?? 'native').split(',');

function queries(data: MarketData, n: number, seed: number): SimilarRequestInput[] {
  const random = rng(seed);
  return Array.from({ length: n }, () => {
    const e = Math.floor(random() * data.entities);
    const a = data.offsets[e]!;
    const len = data.offsets[e + 1]! - a;
    const s = a + Math.floor(random() * (len - L));
    return {
      query: { code: data.codes[e]!, start: dayToIso(data.days[s]!), end: dayToIso(data.days[s + L - 1]!) },
      topK,
      horizon: 20,
      metric: 'dtw' as const,
    };
  });
}

const demo = process.env.BENCH_DEMO_DATA;
const dir = demo ?? syntheticMarketDir(20261122, 4000, 5000);
const data = await loadInWorkers(2, demo ? null : `${dir}-snapshot`)(dir);
const qs = queries(data, N + 1, 62 + L);
for (const spec of kernels) {
  const [name, variant] = spec.split(':');
  chooseDtwKernel(name);
  dtwProbe.stages =
    DTW_STAGES.all |
    (variant === 'scalar'
      ? DTW_STAGES.scalar
      : variant === 'improved'
        ? DTW_STAGES.improved
        : variant === 'rows'
          ? DTW_STAGES.rows
          : 0);
  const cpu: number[] = [];
  const st = dtwProbe.stats;
  st.fill(0);
  for (const [i, q] of qs.entries()) {
    const c0 = process.cpuUsage();
    const r = findSimilar(data, q);
    const c = process.cpuUsage(c0);
    if (i === 0) {
      st.fill(0);
      continue;
    }
    cpu.push((c.user + c.system) / 1000);
    if (process.env.VERBOSE)
      console.log(
        `  q${i} ${cpu.at(-1)!.toFixed(0)} ms, K-th ${Math.sqrt(r.matches.at(-1)?.distance ?? NaN)}`,
      );
  }
  const w = st[DTW_STAT.windows]!;
  const pct = (k: number) => ((100 * st[k]!) / w).toFixed(2);
  const s = [...cpu].sort((a, b) => a - b);
  console.log(
    `${spec} L=${L} top-${topK}: CPU median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms [${cpu.map((x) => x.toFixed(0)).join(' ')}] ` +
      `ns/window ${((1e6 * cpu.reduce((a, b) => a + b, 0)) / w).toFixed(1)}; pruned % Kim ${pct(1)} EQ ${pct(2)} EC ${pct(3)} exactLB ${pct(4)} DTW ${pct(5)} (abandoned ${pct(6)})`,
  );
}
process.exit(0);
