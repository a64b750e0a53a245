/**
 * DTW alone on the bench market, single thread (no pool, so runs compare like for like): CPU and wall
 * time per query and what each stage of the cascade pruned. The issue-14 rows of `npm run bench` use the same
 * queries (seed 62 + L). Used to measure each kernel change A against B in one run:
 *   node --import tsx bench/dtw-focus.ts [L=60] [queries=5] [topK=30] [kernels=native,native:scalar,wasm]
 * (native:scalar is the native kernel's portable one-window-at-a-time path; native:improved adds LB_Improved;
 * native:noguess runs without decision 135's guessed threshold; native:rows computes the DTW row by row instead of by anti-diagonals; native:live by anti-diagonals over the live
 * cells' range only (decision 116) instead of the whole band (decision 129); native:nof32 without the float DTW
 * before the double one (decision 140); native:windows returns every window
 * within the threshold instead of each stock's greedy picks; wasm@FILE runs another build of wasm/dtwscan.ts, native@FILE another build of native/dtwscan.c, e.g. a copy of
 * build/Release/dtwscan.node taken before a change.)
 * BENCH_DEMO_DATA=<store dir> runs on that store instead of the synthetic market.
 */
import { pathToFileURL } from 'node:url';
import {
  chooseDtwKernel,
  DTW_STAGES,
  DTW_STAT,
  dtwProbe,
  nativeDtwKernelFrom,
  useDtwKernel,
} from '../src/kernels/dtw-search.js';
import { wasmDtwscan } from '../src/kernels/dtw-wasm.js';
import { loadInWorkers } from '../src/market/market-state.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { dtwGuess } from '../src/search/dtw-guess.js';
import { syntheticMarketDir } from './synthetic-market.js';
import { randomQueries } from './random-queries.js';

const L = Number(process.argv[2] ?? 60);
const N = Number(process.argv[3] ?? 5);
const topK = Number(process.argv[4] ?? 30);
const kernels = (process.argv[5] ?? 'native').split(',');

const demo = process.env.BENCH_DEMO_DATA;
const dir = demo ?? syntheticMarketDir(20261122, 4000, 5000);
const data = await loadInWorkers(2, demo ? null : `${dir}-snapshot`)(dir);
const qs = randomQueries(data, L, N + 1, 62 + L, { topK, metric: 'dtw' });
/** The stage flags of a kernel spec such as "native:rows". */
function stagesOf(variant: string | undefined): number {
  const extra: Record<string, number> = {
    scalar: DTW_STAGES.scalar,
    improved: DTW_STAGES.improved,
    rows: DTW_STAGES.rows,
    live: DTW_STAGES.live,
    windows: DTW_STAGES.windows,
    nof32: DTW_STAGES.nof32,
  };
  return DTW_STAGES.all | (variant ? (extra[variant] ?? 0) : 0);
}

// Query by query, every kernel in turn (the first query only warms up), so a change in the machine's
// load during the run weighs on every kernel alike.
const runs = kernels.map((spec) => ({
  spec,
  cpu: [] as number[],
  wall: [] as number[],
  stats: new Float64Array(dtwProbe.stats.length),
  rescanned: 0,
}));
const answers: string[] = [];
for (const [i, q] of qs.entries()) {
  for (const run of runs) {
    const [nameAt, variant] = run.spec.split(':');
    const [name, file] = nameAt!.split('@');
    if (file) useDtwKernel(name === 'native' ? nativeDtwKernelFrom(file) : wasmDtwscan(pathToFileURL(file))!);
    else chooseDtwKernel(name);
    dtwProbe.stages = stagesOf(variant);
    dtwGuess.enabled = variant !== 'noguess';
    // native:s4m1.2 guesses from every 4th stock's (K / 4 · 1.2)-th pick (a tuning aid).
    const sm = /^s(\d+)m([\d.]+)$/.exec(variant ?? '');
    dtwGuess.stride = sm ? Number(sm[1]) : 12;
    dtwGuess.margin = sm ? Number(sm[2]) : 1.8;
    const st = dtwProbe.stats;
    st.fill(0);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const again = dtwGuess.rescanned;
    const r = findSimilar(data, q);
    if (i > 0) run.rescanned += dtwGuess.rescanned - again;
    // Every variant must give the same answer (a check on the guess-and-verify, decision 135).
    const key = JSON.stringify(r.matches.map((m) => [m.code, m.start, m.distance]));
    if (answers[i] === undefined) answers[i] = key;
    else if (answers[i] !== key)
      throw new Error(`${run.spec} q${i}: a different answer than ${runs[0]!.spec}`);
    const wall = performance.now() - w0;
    const c = process.cpuUsage(c0);
    if (i === 0) continue;
    for (let k = 0; k < st.length; k++) run.stats[k]! += st[k]!;
    run.cpu.push((c.user + c.system) / 1000);
    run.wall.push(wall);
    if (process.env.VERBOSE)
      console.log(
        `  ${run.spec} q${i} ${run.cpu.at(-1)!.toFixed(0)} ms, K-th ${Math.sqrt(r.matches.at(-1)?.distance ?? NaN)}`,
      );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const { spec, cpu, wall, stats: st, rescanned } of runs) {
  const w = st[DTW_STAT.windows]!;
  const pct = (k: number) => ((100 * st[k]!) / w).toFixed(2);
  console.log(
    `${spec} L=${L} top-${topK}: CPU median ${median(cpu).toFixed(0)} ms [${cpu.map((x) => x.toFixed(0)).join(' ')}], ` +
      `wall median ${median(wall).toFixed(0)} ms [${wall.map((x) => x.toFixed(0)).join(' ')}]; ` +
      `ns/window ${((1e6 * cpu.reduce((a, b) => a + b, 0)) / w).toFixed(1)}; pruned % Kim ${pct(1)} EQ ${pct(2)} EC ${pct(3)} exactLB ${pct(4)} DTW ${pct(5)} (abandoned ${pct(6)}); guess too low ${rescanned}×`,
  );
}
console.log(`guessed ${dtwGuess.guessed} searches, ${dtwGuess.rescanned} run again (guess too low)`);
process.exit(0);
