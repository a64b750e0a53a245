/**
 * CPU per random /v1/similar search in-process, one thread (`findSimilar`), on the demo store with the
 * backend bench's request bodies (random stock of the first 100 full-history ones, L 20..119, topK 10,
 * horizon 20): the figure of issue 15's ml-bound phase without HTTP or the pool.
 *   BENCH_DEMO_DATA=<store dir> node --import tsx bench/similar-inproc.ts [searches=300] [rounds=3]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadMarketData } from '../src/market/market-data.js';
import { findSimilar } from '../src/search/similarity.service.js';

const here = resolve(import.meta.dirname, '../..');
const dir = process.env.BENCH_DEMO_DATA;
if (!dir) {
  console.error('BENCH_DEMO_DATA=<store dir> is required');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 3);

/** The first 100 stocks with the full 2013-2018 history and the calendar (as bench/similar-ab.ts). */
function calendar(): { codes: string[]; dates: string[] } {
  const first = new Map<string, string>();
  const last = new Map<string, string>();
  const dates: string[] = [];
  const text = gunzipSync(readFileSync(join(here, 'scraper/demo/sandp500-5yr/prices.csv.gz'))).toString();
  for (const line of text.split('\n').slice(1)) {
    const [code, date] = line.split(',');
    if (!code || !date) continue;
    if (!first.has(code)) first.set(code, date);
    last.set(code, date);
    if (code === 'AAL') dates.push(date);
  }
  const codes = [...first.keys()].filter(
    (c) => first.get(c)! <= '2013-02-11' && last.get(c)! >= '2018-02-01',
  );
  return { codes: codes.slice(0, 100), dates };
}

function bodies({ codes, dates }: { codes: string[]; dates: string[] }, n: number) {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const L = 20 + Math.floor(rand() * 100);
    const start = Math.floor(rand() * (dates.length - L - 1));
    const code = codes[Math.floor(rand() * codes.length)]!;
    return { query: { code, start: dates[start]!, end: dates[start + L - 1]! }, topK: 10, horizon: 20 };
  });
}

const data = loadMarketData(dir);
const reqs = bodies(calendar(), N);
for (const r of reqs.slice(0, 30)) findSimilar(data, r); // warm-up
const rounds: number[] = [];
const answers: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const c0 = process.cpuUsage();
  for (const r of reqs) answers.push(JSON.stringify({ ...findSimilar(data, r), tookMs: 0 }));
  const c = process.cpuUsage(c0);
  rounds.push((c.user + c.system) / 1000 / N);
}
// A digest of the first round's answers (tookMs left out), so two trees can be seen to answer alike.
const digest = createHash('sha256').update(answers.slice(0, N).join('\n')).digest('hex').slice(0, 16);
console.log(
  `${data.entities} stocks, ${N} searches x ${ROUNDS}: CPU ms per search ${rounds.map((r) => r.toFixed(2)).join(', ')} (answers ${digest})`,
);
