/**
 * Why a demo DTW query is slow: single thread, per query, each step of the guessed search (decision 135)
 * with its CPU time, threshold, DTWs and picks below the threshold.
 *   BENCH_DEMO_DATA=<store dir> node --import tsx bench/dtw-why.ts [queries=24] [L=250] [topK=100] [seed=L*3+topK]
 */
import { loadMarketData } from '../src/market/market-data.js';
import { dtwGuess } from '../src/search/dtw-guess.js';
import { DTW_STAT, dtwProbe } from '../src/kernels/dtw-search.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { randomQueries } from './random-queries.js';

const dir = process.env.BENCH_DEMO_DATA!;
const N = Number(process.argv[2] ?? 24);
const L = Number(process.argv[3] ?? 250);
const topK = Number(process.argv[4] ?? 100);
const seed = Number(process.argv[5] ?? L * 3 + topK);
const demo = loadMarketData(dir);
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
findSimilar(demo, randomQueries(demo, 60, 1, 1, { topK: 10, metric: 'dtw' })[0]!);
let mark = 0;
let steps: string[] = [];
dtwGuess.trace = (kind, tau, results) => {
  const st = dtwProbe.stats;
  const picks = results.flatMap((r) => r.picks.map((p) => p.d2)).sort((a, b) => a - b);
  const below = picks.filter((d) => d < tau).length;
  const t = cpuNow();
  steps.push(
    `${kind} ${(t - mark).toFixed(0)}ms tau ${Math.sqrt(tau).toFixed(3)} win ${st[DTW_STAT.windows]} A-pass ${st[DTW_STAT.windows]! - st[DTW_STAT.kim]! - st[DTW_STAT.keoghEq]! - st[DTW_STAT.keoghEc]!} exactLB ${st[DTW_STAT.exactLb]} dtw ${st[DTW_STAT.dtw]} ab ${st[DTW_STAT.abandoned]} below ${below} K-th ${Math.sqrt(picks[topK - 1] ?? NaN).toFixed(3)}`,
  );
  st.fill(0);
  mark = cpuNow();
};
const rows: { i: number; cpu: number; text: string }[] = [];
for (const [i, q] of randomQueries(demo, L, N, seed, { topK, metric: 'dtw' }).entries()) {
  if (process.env.ONLY && !process.env.ONLY.split(',').includes(String(i))) continue;
  steps = [];
  dtwProbe.stats.fill(0);
  const c0 = cpuNow();
  mark = c0;
  const r = findSimilar(demo, q);
  const cpu = cpuNow() - c0;
  const codes = new Set(r.matches.map((m) => m.code)).size;
  rows.push({
    i,
    cpu,
    text: `q${i} ${cpu.toFixed(0)} ms (${codes} stocks in top-${topK}, K-th ${r.matches.at(-1)!.distance.toFixed(3)}): ${steps.join(' | ')}`,
  });
}
for (const r of rows) console.log(r.text);
const s = rows.map((r) => r.cpu).sort((a, b) => a - b);
console.log(
  `CPU p50 ${s[Math.floor(s.length / 2)]!.toFixed(0)} max ${s.at(-1)!.toFixed(0)} ms; rescans ${dtwGuess.rescanned}`,
);
