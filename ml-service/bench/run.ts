/**
 * `npm run bench -w ml-service`: load time, RSS and search latency on a seeded synthetic market of
 * 4,000 random-walk stocks x 5,000 days (override with BENCH_ENTITIES, BENCH_DAYS, BENCH_QUERIES).
 * DTW: BENCH_DTW_QUERIES / BENCH_DTW_LONG_QUERIES (L=60 / L=250), BENCH_DTW_STEPS=1 adds the cascade's
 * step-by-step table, BENCH_DEMO_DATA=<store dir> the demo-data DTW rows.
 * Prints figures; asserts nothing. Timings on a shared 2-core machine are noisy.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { SimilarRequestInput } from '@resemble/contracts';
import { createApp } from '../src/http/app.js';
import { dtwKernel } from '../src/kernels/dtw-search.js';
import { loadMarketData } from '../src/market/market-data.js';
import { MarketState, loadInWorkers } from '../src/market/market-state.js';
import { createMetrics } from '../src/metrics.js';
import { createPredictorRegistry } from '../src/predictors/registry.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilar, findSimilarWith } from '../src/search/similarity.service.js';
import { dtwSteps } from './dtw-steps.js';
import { syntheticMarketDir } from './synthetic-market.js';
import { randomQueries } from './random-queries.js';

const SEED = 20261122;
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 4000);
const DAYS = Number(process.env.BENCH_DAYS ?? 5000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 20);
const WORKERS = Number(process.env.ML_SEARCH_WORKERS ?? 2);

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function summary(label: string, ms: number[], extra = ''): void {
  console.log(
    `  ${label.padEnd(44)} p50 ${pct(ms, 0.5).toFixed(1).padStart(7)} ms   p95 ${pct(ms, 0.95).toFixed(1).padStart(7)} ms   (n=${ms.length})${extra}`,
  );
}

async function main() {
  console.log(
    `ml-service bench: ${ENTITIES} entities x ${DAYS} days, ${cpus().length} CPUs, ${WORKERS} search workers`,
  );
  let t = performance.now();
  const dir = syntheticMarketDir(SEED, ENTITIES, DAYS);
  console.log(`store: ${dir} (ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`);

  const rss0 = process.memoryUsage().rss;
  const cacheDir = `${dir}-snapshot`;
  rmSync(cacheDir, { recursive: true, force: true });
  const load = loadInWorkers(2, cacheDir);
  let cpu = process.cpuUsage();
  t = performance.now();
  let data = await load(dir);
  let loadMs = performance.now() - t;
  let used = process.cpuUsage(cpu);
  console.log(
    `cold load from ${data.entities} SQLite files (2 loader threads): ${(loadMs / 1000).toFixed(2)} s wall, ` +
      `${((used.user + used.system) / 1e6).toFixed(1)} s CPU, ${data.points.toLocaleString('en')} points (serving from here; the snapshot is written in the background)`,
  );
  t = performance.now();
  await load.flush();
  console.log(`  snapshot written ${((performance.now() - t) / 1000).toFixed(2)} s later`);
  cpu = process.cpuUsage();
  t = performance.now();
  data = await load(dir);
  loadMs = performance.now() - t;
  used = process.cpuUsage(cpu);
  console.log(
    `warm load from the snapshot (what a restart on unchanged data does): ${(loadMs / 1000).toFixed(2)} s wall, ` +
      `${((used.user + used.system) / 1e6).toFixed(1)} s CPU`,
  );
  // The cold load's arrays are garbage now; collect them so RSS shows the steady state (npm run bench
  // passes --expose-gc). A shared WebAssembly.Memory is unmapped only after a later collection.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  await new Promise((ok) => setTimeout(ok, 500));
  gc();
  const mem = process.memoryUsage();
  console.log(
    `memory after load: RSS ${mib(mem.rss)} (process before load ${mib(rss0)}; the market is one shared WebAssembly.Memory plus ${mib(mem.arrayBuffers)} of other buffers)`,
  );

  const pool = new SearchPool(WORKERS);
  const run = pool.runner(data);
  // A vs B for the DTW rows (decision 122): the heavy lane on threads of its own (A, as served) against
  // the heavy lane borrowing one ordinary worker (B, decisions 079/115/116), query by query in turn.
  const borrowed = new SearchPool(WORKERS, 0, undefined, { heavyThreads: 0 });
  const lanes = [
    { name: `own heavy threads (${pool.heavyThreads})`, pool },
    { name: 'borrowed worker', pool: borrowed },
  ];
  // The real app on a loopback port over the same pool, so "over HTTP" below is the in-process search
  // plus what HTTP adds (parsing, routing, JSON out, the socket), measured on the very same queries.
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
  // The client backend uses (a keep-alive undici pool; the answer's bytes are passed on, not parsed).
  const client = new Pool(origin, { connections: 1 });
  const overHttp = async (q: SimilarRequestInput): Promise<number> => {
    const t0 = performance.now();
    const res = await client.request({
      method: 'POST',
      path: '/v1/similar',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(q),
    });
    const bytes = await res.body.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${Buffer.from(bytes).toString()}`);
    return ms;
  };
  console.log('in-process (worker pool) and over HTTP, each query both ways in turn:');
  for (const L of [60, 120]) {
    const qs = randomQueries(data, L, QUERIES + 2, L);
    const ms: number[] = [];
    const httpMs: number[] = [];
    const added: number[] = [];
    let exact = 0;
    let candidates = 0;
    const cpuMs: number[] = [];
    for (const [i, q] of qs.entries()) {
      // Alternating which way goes first, so neither always finds the other's data in the caches.
      const httpFirst = i % 2 === 1;
      const viaHttpFirst = httpFirst ? await overHttp(q) : 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await findSimilarWith(data, q, run);
      const inProcess = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const viaHttp = httpFirst ? viaHttpFirst : await overHttp(q);
      // The first two warm up the JIT and the connection.
      if (i >= 2) {
        ms.push(inProcess);
        httpMs.push(viaHttp);
        added.push(viaHttp - inProcess);
        cpuMs.push((c.user + c.system) / 1000);
        exact += r.exact;
        candidates += r.candidates;
      }
    }
    summary(
      `zned L=${L} topK=30 h=20`,
      ms,
      `  CPU p50 ${pct(cpuMs, 0.5).toFixed(0)} ms (all threads)  exact distances ${((100 * exact) / candidates).toFixed(3)} % of ${(candidates / QUERIES / 1e6).toFixed(1)} M candidates`,
    );
    summary(
      `POST /v1/similar zned L=${L} topK=30 h=20`,
      httpMs,
      `  HTTP adds p50 ${pct(added, 0.5).toFixed(1)} ms per query`,
    );
  }
  {
    const qs = randomQueries(data, 60, Math.min(QUERIES, 5), 7);
    const ms: number[] = [];
    for (const q of qs) {
      const t0 = performance.now();
      findSimilar(data, q);
      ms.push(performance.now() - t0);
    }
    summary('zned L=60, single thread (no workers)', ms);
  }
  {
    const qs = randomQueries(data, 60, 5, 61).map((q) => ({ ...q, normalize: 'mean' as const }));
    const ms: number[] = [];
    for (const q of qs) {
      const t0 = performance.now();
      await findSimilarWith(data, q, run);
      ms.push(performance.now() - t0);
    }
    summary('normalize=mean L=60', ms);
  }
  // DTW (band 10 %), on the pool as served: the issue-14 targets are L=60 top-30 p50 <= 0.5 s, p95 <= 1.5 s,
  // and L=250 p50 <= 1 s.
  console.log(`DTW kernel: ${dtwKernel().name} (ML_DTW_KERNEL overrides)`);
  for (const [L, n] of [
    [60, Number(process.env.BENCH_DTW_QUERIES ?? 10)],
    [250, Number(process.env.BENCH_DTW_LONG_QUERIES ?? 5)],
  ] as const) {
    const qs = randomQueries(data, L, n + 1, 62 + L).map((q) => ({ ...q, metric: 'dtw' as const }));
    const rows = lanes.map(() => ({ ms: [] as number[], cpuMs: [] as number[], exact: 0, candidates: 0 }));
    for (const [i, q] of qs.entries()) {
      for (const [j, lane] of lanes.entries()) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await findSimilarWith(data, q, lane.pool.runner(data));
        // The first warms up the workers.
        if (i === 0) continue;
        const row = rows[j]!;
        row.ms.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        row.cpuMs.push((c.user + c.system) / 1000);
        row.exact += r.exact;
        row.candidates += r.candidates;
      }
    }
    for (const [j, lane] of lanes.entries()) {
      const { ms, cpuMs, exact, candidates } = rows[j]!;
      summary(
        `dtw L=${L} band 10% topK=30, ${lane.name}`,
        ms,
        `  CPU p50 ${pct(cpuMs, 0.5).toFixed(0)} p95 ${pct(cpuMs, 0.95).toFixed(0)} ms (all threads)  DTWs computed ${((100 * exact) / candidates).toFixed(3)} % of windows`,
      );
    }
  }
  if (process.env.BENCH_DTW_STEPS === '1') {
    // A subset (the first 400 stocks) keeps the rows without bounds to tens of seconds.
    const codes = data.codes.slice(0, 400);
    const qs = randomQueries(data, 60, 5, 63).map((q) => ({
      ...q,
      metric: 'dtw' as const,
      filters: { codes },
    }));
    dtwSteps(data, qs, `L=60 band 10% topK=30 over ${codes.length} stocks`);
  }
  const demoDir = process.env.BENCH_DEMO_DATA;
  if (demoDir) {
    // The demo store (505 S&P 500 stocks; import it with the scraper's import CLI): every DTW search
    // should answer within 300 ms.
    const demo = loadMarketData(demoDir);
    console.log(`demo data ${demoDir}: ${demo.entities} stocks, ${demo.points.toLocaleString('en')} points`);
    for (const L of [20, 60, 120, 250]) {
      for (const topK of [10, 100]) {
        const qs = randomQueries(demo, L, 6, L * 3 + topK).map((q) => ({
          ...q,
          metric: 'dtw' as const,
          topK,
        }));
        const rows = lanes.map(() => ({ ms: [] as number[], cpuMs: [] as number[] }));
        for (const q of qs) {
          for (const [j, lane] of lanes.entries()) {
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            await findSimilarWith(demo, q, lane.pool.runner(demo));
            rows[j]!.ms.push(performance.now() - t0);
            const c = process.cpuUsage(c0);
            rows[j]!.cpuMs.push((c.user + c.system) / 1000);
          }
        }
        for (const [j, lane] of lanes.entries()) {
          const { ms, cpuMs } = rows[j]!;
          summary(
            `demo dtw L=${L} band 10% topK=${topK}, ${lane.name}`,
            ms,
            `  max ${Math.max(...ms).toFixed(1)} ms  CPU p50 ${pct(cpuMs, 0.5).toFixed(0)} max ${Math.max(...cpuMs).toFixed(0)} ms (all threads)`,
          );
        }
      }
    }
  }

  console.log(`RSS at end: ${mib(process.memoryUsage().rss)}`);
  await client.close();
  server.closeAllConnections();
  server.close();
  registry.close();
  await pool.close();
  await borrowed.close();
}

await main();
