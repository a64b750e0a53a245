/**
 * Two or more builds of the native DTW kernel on the same few demo queries, interleaved rep by rep on
 * one thread; the minimum CPU time per query and build (the least disturbed run on a shared machine).
 *   BENCH_DEMO_DATA=<store dir> node --import tsx bench/dtw-ab.ts <a.node,b.node,..> [queries=0,5,7] [reps=5] [L=250] [topK=100]
 */
import { nativeDtwKernelFrom, useDtwKernel } from '../src/kernels/dtw-search.js';
import { loadMarketData } from '../src/market/market-data.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { randomQueries } from './random-queries.js';

const dir = process.env.BENCH_DEMO_DATA!;
const files = process.argv[2]!.split(',');
const which = (process.argv[3] ?? '0,5,7').split(',').map(Number);
const reps = Number(process.argv[4] ?? 5);
const L = Number(process.argv[5] ?? 250);
const topK = Number(process.argv[6] ?? 100);
const demo = loadMarketData(dir);
const kernels = files.map((f) => nativeDtwKernelFrom(f.startsWith('/') ? f : `${process.cwd()}/${f}`));
const qs = randomQueries(demo, L, Math.max(...which) + 1, L * 3 + topK, { topK, metric: 'dtw' });
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const best = which.map(() => files.map(() => Infinity));
const answers: string[] = [];
for (let rep = 0; rep < reps; rep++)
  for (const [qi, i] of which.entries())
    for (const [ki, k] of kernels.entries()) {
      useDtwKernel(k);
      const c0 = cpuNow();
      const r = findSimilar(demo, qs[i]!);
      const cpu = cpuNow() - c0;
      const key = JSON.stringify(r.matches.map((m) => [m.code, m.start, m.distance]));
      if (answers[qi] !== undefined && answers[qi] !== key)
        throw new Error(`${files[ki]} q${i}: another answer`);
      answers[qi] = key;
      best[qi]![ki] = Math.min(best[qi]![ki]!, cpu);
    }
for (const [qi, i] of which.entries())
  console.log(
    `q${i}: ${files.map((f, ki) => `${f.split('/').pop()} ${best[qi]![ki]!.toFixed(0)}`).join('  ')} ms (min CPU of ${reps})`,
  );
const tot = files.map((_, ki) => best.reduce((s, b) => s + b[ki]!, 0));
console.log(`sum: ${files.map((f, ki) => `${f.split('/').pop()} ${tot[ki]!.toFixed(0)}`).join('  ')} ms`);
process.exit(0);
