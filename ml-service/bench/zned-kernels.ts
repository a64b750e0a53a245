/**
 * The z-normalised ED kernels alone, single thread, A against B in one run: for each query (a random
 * stretch of the bench market, seed 60 + L), the search's final K-th distance is taken as a fixed
 * threshold and every window of every stock is scanned once per kernel, query by query with the kernels
 * in turn (the first query only warms up). Prints CPU per query (median) and per window, and how many
 * windows each kernel left to the exact distance. Used for decision 124.
 *   node --import tsx bench/zned-kernels.ts [L=60] [queries=6] [topK=30] [kernels=native,wasm,direct]
 * (direct: no pruning, every window's exact distance with early abandoning.)
 * BENCH_DEMO_DATA=<store dir> runs on that store instead of the synthetic market.
 */
import { makeEdScanner, type EdQuery } from '../src/kernels/ed-kernel.js';
import { dayToIso, type MarketData } from '../src/market/market-data.js';
import { loadInWorkers } from '../src/market/market-state.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { normalizeWindow, windowDistance2 } from '../src/kernels/window-distance.js';
import { rng } from '../test/support/write-store.js';
import { syntheticMarketDir } from './synthetic-market.js';

const L = Number(process.argv[2] ?? 60);
const N = Number(process.argv[3] ?? 6);
const topK = Number(process.argv[4] ?? 30);
const kernels = (process.argv[5] ?? 'native,wasm,direct').split(',');

const demo = process.env.BENCH_DEMO_DATA;
const dir = demo ?? syntheticMarketDir(20261122, 4000, 5000);
const data: MarketData = await loadInWorkers(2, demo ? null : `${dir}-snapshot`)(dir);
const random = rng(60 + L);
const windows = (() => {
  let w = 0;
  for (let e = 0; e < data.entities; e++) w += Math.max(0, data.offsets[e + 1]! - data.offsets[e]! - L + 1);
  return w;
})();

/** Scans every window of every stock with threshold tau2; returns the exact computations and kept windows. */
function scanAll(kernel: string, qn: Float64Array, tau2: number): { exact: number; kept: number } {
  let kept = 0;
  const keep = () => kept++;
  if (kernel === 'direct') {
    const scratch = new Float64Array(L);
    let exact = 0;
    for (let e = 0; e < data.entities; e++)
      for (let t = data.offsets[e]!; t + L <= data.offsets[e + 1]!; t++) {
        exact++;
        if (windowDistance2(data.closes, t, qn, 'z', tau2, scratch) !== Infinity) kept++;
      }
    return { exact, kept };
  }
  const scan = makeEdScanner(data, { qn, normalize: 'z', kernel: kernel as EdQuery['kernel'] });
  let exact = 0;
  if (scan.chunk) {
    const plan: number[] = [];
    for (let e = 0; e < data.entities; e++)
      if (data.offsets[e + 1]! - data.offsets[e]! >= L)
        plan.push(e, data.offsets[e]!, data.offsets[e + 1]! - L + 1);
    const p = Int32Array.from(plan);
    for (let k = 0; k < p.length; k += 24) {
      const r = scan.chunk(p, k, Math.min(p.length, k + 24), tau2);
      exact += r.exact;
      kept += r.end[Math.min(p.length, k + 24) / 3 - k / 3 - 1]!;
    }
    return { exact, kept };
  }
  for (let e = 0; e < data.entities; e++) {
    const hi = data.offsets[e + 1]! - L + 1;
    if (hi > data.offsets[e]!) exact += scan(e, data.offsets[e]!, hi, tau2, keep);
  }
  return { exact, kept };
}

const runs = kernels.map((k) => ({ k, cpu: [] as number[], exact: 0, kept: [] as number[] }));
for (let i = 0; i <= N; i++) {
  const e = Math.floor(random() * data.entities);
  const a = data.offsets[e]!;
  const s = a + Math.floor(random() * (data.offsets[e + 1]! - a - L));
  const r = findSimilar(data, {
    query: { code: data.codes[e]!, start: dayToIso(data.days[s]!), end: dayToIso(data.days[s + L - 1]!) },
    topK,
    horizon: 20,
  });
  const tau2 = r.matches.at(-1)!.distance ** 2;
  const qn = new Float64Array(L);
  normalizeWindow(data.closes, s, L, 'z', qn);
  for (const run of runs) {
    const c0 = process.cpuUsage();
    const got = scanAll(run.k, qn, tau2);
    const c = process.cpuUsage(c0);
    if (i === 0) continue;
    run.cpu.push((c.user + c.system) / 1000);
    run.exact += got.exact;
    run.kept.push(got.kept);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${data.entities} stocks, ${windows} windows, L=${L} top-${topK}, ${N} queries`);
for (const { k, cpu, exact, kept } of runs)
  console.log(
    `  ${k.padEnd(7)} CPU median ${median(cpu).toFixed(0).padStart(6)} ms [${cpu.map((x) => x.toFixed(0)).join(' ')}]` +
      `, ${((1e6 * cpu.reduce((x, y) => x + y, 0)) / (windows * N)).toFixed(2)} ns/window` +
      `, exact ${((100 * exact) / (windows * N)).toFixed(3)} % of windows, kept [${kept.join(' ')}]`,
  );
process.exit(0);
