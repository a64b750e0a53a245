/**
 * `node --import tsx bench/dtw-cancel.ts` (from ml-service/): how soon a cancelled DTW search frees its
 * worker when the cancel lands inside a long kernel call (decision 115). Over HTTP, one worker: a
 * full-band DTW at L=500 over 3 stocks of 20,000 closes (each stock's call is tens of seconds of DTWs);
 * the client disconnects half a second into the first stock's call, and the time until the pool runs
 * nothing is printed (p50 and max of BENCH_CANCEL_RUNS), per kernel. For the native kernel, whose counters
 * move while a call runs, also how long the rest of that call would have taken at the rate measured: what
 * a cancel waited for before 115. Prints figures; asserts nothing. Timings on a shared machine are noisy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTW_STAT } from '../src/kernels/dtw-search.js';
import type { DtwKernelName } from '../src/kernels/seam.js';
import { market, start } from '../test/support/http-service.js';
import { writeStore } from '../test/support/write-store.js';

const CLOSES = 20_000;
const L = 500;
const RUNS = Number(process.env.BENCH_CANCEL_RUNS ?? 5);
/** The seed threshold's DTWs (8 sampled windows per stock at topK 100), each a call of its own. */
const SEED_DTWS = 3 * 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wave = (k: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.sin((i + k) / 9) + Math.sin(i / 31) + i / 200);

async function bench(dir: string, kernel: DtwKernelName) {
  const work = new Float64Array(new SharedArrayBuffer(8 * 8));
  const dtws = () => work[DTW_STAT.dtw]!;
  // Worker threads read the kernel choice from the environment they start with.
  process.env.ML_DTW_KERNEL = kernel;
  const svc = await start(dir, {
    workers: 1,
    splitAbove: Number.MAX_SAFE_INTEGER,
    pool: { heavyCost: 1e9, stopGraceMs: 3_600_000, workCounter: work },
  });
  delete process.env.ML_DTW_KERNEL;
  const post = (body: unknown, signal?: AbortSignal) =>
    fetch(`${svc.url}/v1/similar`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  await (await post({ query: { series: wave(3, 30) }, topK: 5, horizon: 10 })).arrayBuffer();
  const stops: number[] = [];
  const rest: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const before = dtws();
    const ac = new AbortController();
    const gone = post(
      { query: { series: wave(run, L) }, metric: 'dtw', band: 1, topK: 100, horizon: 10 },
      ac.signal,
    ).catch(() => null);
    while (dtws() - before < SEED_DTWS) await sleep(5);
    const t0 = performance.now();
    const n0 = dtws();
    await sleep(500);
    const rate = (dtws() - n0) / (performance.now() - t0); // DTWs a ms (native: live; WASM: 0)
    const done = dtws() - before - SEED_DTWS;
    const tAbort = performance.now();
    ac.abort();
    await gone;
    while (svc.pool.stats().running > 0) await sleep(1);
    stops.push(performance.now() - tAbort);
    if (rate > 0) rest.push((CLOSES - L + 1 - done) / rate);
  }
  await svc.close();
  const sorted = [...stops].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)]!;
  let line = `${kernel.padEnd(6)} client gone -> worker free: p50 ${p50.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (n=${RUNS})`;
  if (rest.length) {
    const r = [...rest].sort((a, b) => a - b)[Math.floor(rest.length / 2)]!;
    line += `; the call it left had ~${(r / 1000).toFixed(1)} s to run (p50, at the rate measured)`;
  }
  console.log(line);
}

const dir = mkdtempSync(join(tmpdir(), 'ml-dtw-cancel-bench-'));
try {
  writeStore(dir, market(31, 3, CLOSES), 'v1');
  console.log(
    `dtw-cancel bench: full-band DTW L=${L}, 3 stocks x ${CLOSES} closes, 1 worker, ${new Date().toISOString()}`,
  );
  const kernels: DtwKernelName[] =
    process.arch === 'x64' && process.platform === 'linux' ? ['native', 'wasm'] : ['wasm'];
  for (const k of kernels) await bench(dir, k);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
