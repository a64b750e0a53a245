/**
 * What each step of the DTW cascade buys: the same queries single-threaded (no pool, so the threshold
 * evolves the same way in every row) with the stages of native/dtwscan.c turned on one by one, then the
 * WASM kernel and the TypeScript reference with everything on. Prints wall and CPU time (on a shared
 * machine CPU time is the steadier figure) and the counters.
 */
import type { SimilarRequestInput } from '@resemble/contracts';
import {
  chooseDtwKernel,
  DTW_STAGES,
  DTW_STAT,
  dtwKernelByName,
  dtwProbe,
} from '../src/kernels/dtw-search.js';
import type { MarketData } from '../src/market/market-data.js';
import { findSimilar } from '../src/search/similarity.service.js';

interface Step {
  label: string;
  kernel: 'native' | 'wasm' | 'ts';
  stages: number;
}

const S = DTW_STAGES;
export const STEPS: Step[] = [
  { label: 'TypeScript reference (the former path)', kernel: 'ts', stages: S.all },
  { label: 'native: pruned DTW only, no lower bounds', kernel: 'native', stages: 0 },
  { label: '+ LB_Kim (first/last two cells)', kernel: 'native', stages: S.kim },
  { label: '+ LB_Keogh(window, query envelope)', kernel: 'native', stages: S.kim | S.keoghEq },
  {
    label: '+ LB_Keogh(query, reused data envelope)',
    kernel: 'native',
    stages: S.kim | S.keoghEq | S.keoghEc,
  },
  { label: '+ cumulative bounds by row in DTW', kernel: 'native', stages: S.all & ~S.columns },
  { label: '+ cumulative bounds by column (EAPruned; all)', kernel: 'native', stages: S.all },
  { label: '+ LB_Improved before DTW (off: not kept)', kernel: 'native', stages: S.all | S.improved },
  { label: 'WASM kernel, all stages', kernel: 'wasm', stages: S.all },
];

export function dtwSteps(
  data: MarketData,
  qs: SimilarRequestInput[],
  label: string,
  steps: Step[] = STEPS,
): void {
  console.log(`DTW cascade step by step, single thread, ${label} (${qs.length} queries, median ms):`);
  for (const step of steps) {
    if (!dtwKernelByName(step.kernel)) continue;
    chooseDtwKernel(step.kernel);
    dtwProbe.stages = step.stages;
    dtwProbe.stats.fill(0);
    const ms: number[] = [];
    const cpu: number[] = [];
    for (const q of qs) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      findSimilar(data, q);
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    ms.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const st = dtwProbe.stats;
    const w = st[DTW_STAT.windows]!;
    const pct = (i: number) => (w > 0 ? ((100 * st[i]!) / w).toFixed(2).padStart(6) : '     -');
    console.log(
      `  ${step.label.padEnd(48)} ${ms[Math.floor(ms.length / 2)]!.toFixed(0).padStart(7)} ms wall ${cpu[Math.floor(cpu.length / 2)]!.toFixed(0).padStart(7)} ms CPU` +
        (step.kernel === 'ts'
          ? ''
          : `   pruned %: Kim ${pct(DTW_STAT.kim)} Keogh-EQ ${pct(DTW_STAT.keoghEq)} Keogh-EC ${pct(DTW_STAT.keoghEc)} exact-LB ${pct(DTW_STAT.exactLb)} Improved ${pct(DTW_STAT.improved)}  DTW ${pct(DTW_STAT.dtw)} % (abandoned ${pct(DTW_STAT.abandoned)})`),
    );
  }
  dtwProbe.stages = S.all;
  chooseDtwKernel(process.env.ML_DTW_KERNEL);
}
