/**
 * The DTW kernel alone over every window of a store at fixed thresholds (no search, no pool): CPU time,
 * ns a window and what each stage pruned. Decision 077 quotes it on the demo store.
 *   node --import tsx bench/dtw-threshold.ts <store dir> [L=60]
 */
import { loadMarketData } from '../src/market/market-data.js';
import { DTW_STAGES, makeDtwScanner, dtwKernelByName, dtwProbe } from '../src/kernels/dtw-search.js';
import { normalizeWindow } from '../src/kernels/window-distance.js';
const data = loadMarketData(process.argv[2]!);
const L = Number(process.argv[3] ?? 60);
const plan: number[] = [];
for (let e = 0; e < data.entities; e++) {
  const hi = data.offsets[e + 1]! - L + 1;
  if (hi > data.offsets[e]!) plan.push(e, data.offsets[e]!, hi);
}
const P = Int32Array.from(plan);
const qn = new Float64Array(L);
normalizeWindow(data.closes, 1000, L, 'z', qn);
for (const tau2 of [1e-6, 2, 8, 20]) {
  for (const stages of [DTW_STAGES.all, DTW_STAGES.all | DTW_STAGES.improved]) {
    dtwProbe.stats.fill(0);
    const scan = makeDtwScanner(
      data,
      { qn, band: Math.floor(L / 10) },
      dtwKernelByName('native')!,
      dtwProbe.stats,
      stages,
    );
    const c0 = process.cpuUsage();
    let kept = 0;
    for (let k = 0; k < P.length; k += 24) {
      const r = scan.chunk!(P, k, Math.min(P.length, k + 24), tau2);
      kept += r.end[Math.min(P.length, k + 24) / 3 - k / 3 - 1]!;
    }
    const c = process.cpuUsage(c0);
    const s = dtwProbe.stats;
    console.log(
      `tau2=${tau2} stages=${stages}: cpu ${((c.user + c.system) / 1000).toFixed(0)} ms, ns/window ${(((c.user + c.system) * 1000) / s[0]!).toFixed(1)}, kept ${kept}, dtw ${((100 * s[5]!) / s[0]!).toFixed(2)}%, kim ${((100 * s[1]!) / s[0]!).toFixed(1)}% eq ${((100 * s[2]!) / s[0]!).toFixed(1)}% ec ${((100 * s[3]!) / s[0]!).toFixed(1)}% imp ${((100 * s[7]!) / s[0]!).toFixed(2)}%`,
    );
  }
}
