/**
 * The demo-data DTW rows of `npm run bench` (the issue-14 target: every DTW search <= 300 ms) on the pool
 * as served, with decision 135's guessed threshold on and off, query by query in turn, so the two
 * compare within one run on a loaded machine. Checks both give the same answer.
 *   BENCH_DEMO_DATA=<store dir> node --import tsx bench/dtw-demo.ts [queries=6] [L,L..=20,60,120,250] [topK,..=10,100]
 */
import { loadMarketData } from '../src/market/market-data.js';
import { dtwGuess } from '../src/search/dtw-guess.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilarWith } from '../src/search/similarity.service.js';
import { randomQueries } from './random-queries.js';

const dir = process.env.BENCH_DEMO_DATA;
if (!dir) {
  console.error('BENCH_DEMO_DATA=<store dir> is required');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 6);
const Ls = (process.argv[3] ?? '20,60,120,250').split(',').map(Number);
const Ks = (process.argv[4] ?? '10,100').split(',').map(Number);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const demo = loadMarketData(dir);
const pool = new SearchPool(2);
const run = pool.runner(demo);
console.log(`demo ${dir}: ${demo.entities} stocks; pool of 2, heavy threads ${pool.heavyThreads}`);
// Warm the workers up.
await findSimilarWith(demo, randomQueries(demo, 60, 1, 1, { topK: 10, metric: 'dtw' })[0]!, run);
for (const L of Ls) {
  for (const topK of Ks) {
    const rows = [false, true].map((on) => ({ on, ms: [] as number[], cpu: [] as number[] }));
    for (const q of randomQueries(demo, L, N, L * 3 + topK, { topK, metric: 'dtw' })) {
      let answer = '';
      for (const row of rows) {
        dtwGuess.enabled = row.on;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await findSimilarWith(demo, q, run);
        row.ms.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        row.cpu.push((c.user + c.system) / 1000);
        const key = JSON.stringify(r.matches.map((m) => [m.code, m.start, m.distance]));
        if (answer && key !== answer)
          throw new Error(`L=${L} top-${topK}: the guessed search answered differently`);
        answer = key;
      }
    }
    for (const { on, ms, cpu } of rows)
      console.log(
        `demo dtw L=${L} top-${topK} guess ${on ? 'on ' : 'off'}: wall p50 ${pct(ms, 0.5).toFixed(0)} max ${Math.max(...ms).toFixed(0)} ms [${ms.map((x) => x.toFixed(0)).join(' ')}]; CPU p50 ${pct(cpu, 0.5).toFixed(0)} ms [${cpu.map((x) => x.toFixed(0)).join(' ')}] (all threads)`,
      );
  }
}
console.log(`guessed ${dtwGuess.guessed} searches, ${dtwGuess.rescanned} run again (guess too low)`);
await pool.close();
