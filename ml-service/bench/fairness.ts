/**
 * `npm run bench:fairness -w ml-service` (also the second half of `npm run bench`): does a long search
 * hold up a short one? Over HTTP on the synthetic market of bench/run.ts: the p50 of ordinary searches
 * (zned L=60 top-30) idle, then with 6 DTW L=250 top-100 searches in flight (target: at most 2x idle);
 * then the 6 are abandoned by their client and the time until their workers are free is printed.
 * A vs B in one run: the heavy lane on threads of its own (decision 122, as served), the heavy lane
 * borrowing one of the two ordinary workers (decision 079), and no lane (every search ordinary).
 * Prints figures; asserts nothing. Timings on a shared 2-core machine are noisy.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { SimilarRequestInput } from '@resemble/contracts';
import { createApp } from '../src/http/app.js';
import { dayToIso, type MarketData } from '../src/market/market-data.js';
import { MarketState, loadInWorkers } from '../src/market/market-state.js';
import { createMetrics } from '../src/metrics.js';
import { createPredictorRegistry } from '../src/predictors/registry.js';
import { SearchPool, HEAVY_COST } from '../src/search/search-pool.js';
import { rng } from '../test/support/write-store.js';
import { syntheticMarketDir } from './synthetic-market.js';

const SEED = 20261122;
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 4000);
const DAYS = Number(process.env.BENCH_DAYS ?? 5000);
const QUERIES = Number(process.env.BENCH_FAIR_QUERIES ?? 15);
const HEAVY = 6;
/** Ordinary searches that wait longer than this are given up (504) and counted, so no lane cannot hang. */
const LIGHT_BUDGET_MS = Number(process.env.BENCH_FAIR_BUDGET_MS ?? 20_000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
}

function queries(data: MarketData, L: number, n: number, seed: number, extra: Partial<SimilarRequestInput>) {
  const random = rng(seed);
  return Array.from({ length: n }, (): SimilarRequestInput => {
    const e = Math.floor(random() * data.entities);
    const a = data.offsets[e]!;
    const s = a + Math.floor(random() * (data.offsets[e + 1]! - a - L - 20));
    const query = {
      code: data.codes[e]!,
      start: dayToIso(data.days[s]!),
      end: dayToIso(data.days[s + L - 1]!),
    };
    return { query, topK: 30, horizon: 20, ...extra };
  });
}

async function serve(data: MarketData, dir: string, pool: SearchPool) {
  const log = pino({ level: 'silent' });
  const metrics = createMetrics();
  const state = new MarketState(dir, log, metrics);
  state.data = data;
  state.status = 'ready';
  const registry = createPredictorRegistry({ getData: () => data, modelsDir: dir, watch: false });
  const app = createApp({ config: { ML_TOKEN: undefined }, log, metrics, state, pool, registry });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: async () => {
      server.closeAllConnections();
      server.close();
      registry.close();
      await pool.close();
    },
  };
}

/** One request; its time in ms, or null when it was answered 504 (past LIGHT_BUDGET_MS). */
async function timed(client: Pool, q: SimilarRequestInput, signal?: AbortSignal): Promise<number | null> {
  const t0 = performance.now();
  const res = await client.request({
    method: 'POST',
    path: '/v1/similar',
    headers: { 'content-type': 'application/json', 'x-deadline-ms': String(LIGHT_BUDGET_MS) },
    body: JSON.stringify(q),
    signal,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode === 504) return null;
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.toString()}`);
  return performance.now() - t0;
}

async function phase(
  label: string,
  data: MarketData,
  dir: string,
  heavyCost: number,
  n: number,
  heavyThreads?: number,
) {
  const pool = new SearchPool(2, 0, undefined, { heavyCost, heavyThreads });
  const app = await serve(data, dir, pool);
  const light = new Pool(app.origin, { connections: 1 });
  const heavy = new Pool(app.origin, { connections: HEAVY });
  const run = async (qs: SimilarRequestInput[]) => {
    const ms: number[] = [];
    let timedOut = 0;
    for (const q of qs) {
      const t = await timed(light, q);
      if (t === null) timedOut++;
      else ms.push(t);
    }
    return { ms, timedOut };
  };
  // Warm-up (JIT, connection, workers' first search), then idle.
  await run(queries(data, 60, 3, 1, {}));
  const idle = await run(queries(data, 60, n, 60, {}));
  const ac = new AbortController();
  const long = queries(data, 250, HEAVY, 250, { metric: 'dtw', topK: 100 }).map((q) =>
    heavy
      .request({
        method: 'POST',
        path: '/v1/similar',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(q),
        signal: ac.signal,
      })
      .then((r) => r.body.arrayBuffer().then(() => r.statusCode))
      .catch(() => 'aborted'),
  );
  while (pool.stats().running === 0) await new Promise((r) => setTimeout(r, 10));
  const busy = await run(queries(data, 60, n, 61, {}));
  const during = pool.stats();
  const tAbort = performance.now();
  ac.abort();
  await Promise.all(long);
  while (pool.stats().running > 0) await new Promise((r) => setTimeout(r, 5));
  const freedMs = performance.now() - tAbort;
  const after = pool.stats();
  const p50i = pct(idle.ms, 0.5);
  const p50b = pct(busy.ms, 0.5);
  console.log(`${label}:`);
  console.log(
    `  zned L=60 top-30 idle      p50 ${p50i.toFixed(1).padStart(8)} ms  p95 ${pct(idle.ms, 0.95).toFixed(1).padStart(8)} ms  (n=${idle.ms.length})`,
  );
  console.log(
    `  ... with ${HEAVY} DTW L=250 top-100 in flight  p50 ${p50b.toFixed(1).padStart(8)} ms  p95 ${pct(busy.ms, 0.95).toFixed(1).padStart(8)} ms  (n=${busy.ms.length}, ${busy.timedOut} gave up after ${LIGHT_BUDGET_MS} ms)  = ${(p50b / p50i).toFixed(2)}x idle (target <= 2x)`,
  );
  console.log(
    `  pool while busy: ${during.heavyRunning} heavy search(es) running (lane: ${during.heavyLane}, ${during.heavyWorkers} heavy worker(s), nice ${during.heavyNice.join('/') || during.nice.join('/')} against ordinary ${during.nice.join('/')}), ${during.heavyQueued} heavy queued`,
  );
  console.log(
    `  the ${HEAVY} DTW searches abandoned by their client: workers free ${freedMs.toFixed(0)} ms later, ${after.cancelled} cancelled, ${after.abandonedChunks} chunks left unscanned`,
  );
  await light.close();
  await heavy.close();
  await app.close();
}

async function main() {
  console.log(
    `fairness bench: ${ENTITIES} entities x ${DAYS} days, 2 search workers, ${new Date().toISOString()}`,
  );
  const dir = syntheticMarketDir(SEED, ENTITIES, DAYS);
  const load = loadInWorkers(2, `${dir}-snapshot`);
  const data = await load(dir);
  await load.flush();
  await phase(
    `A: heavy lane on its own low-priority threads (cost >= ${HEAVY_COST.toExponential(0)}; decision 122)`,
    data,
    dir,
    HEAVY_COST,
    QUERIES,
  );
  await phase(
    `A': heavy lane borrowing at most 1 of the 2 workers (decision 079)`,
    data,
    dir,
    HEAVY_COST,
    QUERIES,
    0,
  );
  await phase(
    'B: no lane (every search ordinary: the pool before issue 14)',
    data,
    dir,
    Infinity,
    Math.min(QUERIES, 5),
    0,
  );
}

await main();
