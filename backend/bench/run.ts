/**
 * npm run bench -w backend
 * /api/v1/similar through backend + the real ml-service on the bundled demo data (505 S&P 500 stocks),
 * 50 connections for BENCH_SECONDS (default 30) after BENCH_WARMUP_SECONDS (default 15) of the same load
 * not counted, every request a different random stock and window so no cache can answer it; then the
 * same query repeated (ml-service's result cache answers it; backend still authenticates and counts every
 * one); then login throughput (hashing is bounded by HASH_CONCURRENCY). Targets: >= 300 req/s, p99 <= 250 ms, 0 errors. Prints the figures.
 *
 * BENCH_SCENARIO=replicas runs the random phase through two backend replicas on PostgreSQL + Redis
 * behind nginx instead, then backend alone on both engines (bench/replicas.ts).
 *
 * BENCH_SCENARIO=overhead runs only "backend alone (instant ml stand-in)" against a synthetic answer of
 * the same shape and size, without the demo import or ml-service: a quick loop while tuning backend.
 * BENCH_SCENARIO=replicas-overhead does the same for the replicas scenario's second half: two replicas
 * on PostgreSQL + Redis, then one backend on SQLite, each alone against the synthetic answer.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importFixture, startStack } from '../../tests/support/stack.js';
import { freePort, startProcess, stopProcess, waitForHealthy } from '../../scripts/processes.js';
import { measured, replicasOverhead, reportCpu, startEngines, startReplicas } from './replicas.js';
import { benchHeaders, proSession } from './http.js';
import { backendOverhead } from './overhead.js';
import { tenAtOnce } from './ten-at-once.js';
import { syntheticCalendar, syntheticSimilar } from './synthetic.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
// Before each random-query phase: a freshly started stack climbs for its first seconds (JIT tiers, heap
// sizing), and what a long-running service serves is the warm state. The warm-up's requests are random
// too and are not counted.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SCENARIO = process.env.BENCH_SCENARIO ?? 'all';
/** The replicas scenarios' label: BENCH_REPLICAS (default 2) is read by bench/replicas.ts. */
const REPLICAS = `${process.env.BENCH_REPLICAS ?? 2} replica(s)`;
const demo = resolve(import.meta.dirname, '../../scraper/demo/sandp500-5yr/prices.csv.gz');

function report(name: string, r: autocannon.Result): void {
  const errors = r.errors + r.timeouts + r.non2xx;
  console.log(
    `${name.padEnd(34)} ${r.requests.average.toFixed(1).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(5)} ms   p99 ${String(r.latency.p99).padStart(5)} ms   ` +
      `requests ${r.requests.total}   errors ${errors} (non2xx ${r.non2xx}, timeouts ${r.timeouts})   ` +
      // Bytes per answer: the synthetic and canned stand-ins should match what the real ml-service sends.
      `${Math.round(r.throughput.total / Math.max(1, r.requests.total))} B/answer`,
  );
}

const benchEnv = {
  RATE_LIMIT_IP_PER_MIN: '10000000',
  RATE_LIMIT_USER_PER_MIN: '10000000',
  LOGIN_MAX_PER_IP: '10000000',
  LOGIN_MAX_PER_ACCOUNT: '10000000',
  LOG_LEVEL: 'warn',
};

/** Random /similar bodies over the given stocks and calendar, from a fixed seed (the same run every time). */
function bodies(codes: string[], dates: string[]) {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const next = () => {
    const L = 20 + Math.floor(rand() * 100);
    const start = Math.floor(rand() * (dates.length - L - 1));
    return JSON.stringify({
      query: {
        code: codes[Math.floor(rand() * codes.length)],
        start: dates[start],
        end: dates[start + L - 1],
      },
      topK: 10,
      horizon: 20,
    });
  };
  return { next };
}

function reportOverhead(overhead: Awaited<ReturnType<typeof backendOverhead>>): void {
  report('backend alone (instant ml stand-in)', overhead.result);
  console.log(
    `backend CPU per /similar request (auth, quota write, proxy, JSON): ${overhead.cpuMsPerRequest.toFixed(2)} ms -> ~${Math.round(1000 / overhead.cpuMsPerRequest)} req/s per free core`,
  );
  console.log(
    `autocannon + ml stand-in CPU per request (the bench's own share): ${overhead.benchCpuMsPerRequest.toFixed(2)} ms`,
  );
}

async function overheadOnly(): Promise<void> {
  const { codes, dates } = syntheticCalendar();
  console.log(
    `backend alone against a synthetic ml answer; ${CONNECTIONS} connections x ${SECONDS}s after a ${WARMUP}s warm-up`,
  );
  reportOverhead(
    await backendOverhead(
      syntheticSimilar(dates, codes),
      bodies(codes, dates).next,
      SECONDS,
      CONNECTIONS,
      benchEnv,
      WARMUP,
    ),
  );
}

async function replicasOverheadOnly(): Promise<void> {
  const { codes, dates } = syntheticCalendar();
  const work = mkdtempSync(join(tmpdir(), 'resemble-bench-'));
  const engines = await startEngines();
  try {
    console.log(
      `backend alone against a synthetic ml answer; ${CONNECTIONS} connections x ${SECONDS}s after a ${WARMUP}s warm-up`,
    );
    const alone = await replicasOverhead(
      engines,
      syntheticSimilar(dates, codes),
      bodies(codes, dates).next,
      SECONDS,
      CONNECTIONS,
      benchEnv,
      join(work, 'data'),
      WARMUP,
    );
    report(`backend alone, ${REPLICAS} pg+redis`, alone.pgRedis.result);
    reportCpu(alone.pgRedis.cpu);
    if (alone.sqlite) {
      report('backend alone, 1 process sqlite', alone.sqlite.result);
      console.log(`  CPU per request: backend ${alone.sqlite.cpuMsPerRequest.toFixed(2)} ms`);
    }
  } finally {
    await engines.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const meetsTarget = (r: autocannon.Result) =>
  r.requests.average >= 300 && r.latency.p99 <= 250 && r.errors + r.non2xx + r.timeouts === 0;

async function replicasScenario(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'resemble-bench-'));
  const dataDir = join(work, 'data');
  console.log(`importing demo data (${demo}) ...`);
  await importFixture(dataDir, demo);
  const engines = await startEngines();
  const mlToken = 'bench-ml-token';
  const mlPort = await freePort();
  const ml = startProcess('ml-service', process.execPath, ['--import', 'tsx', 'ml-service/src/server.ts'], {
    ML_HOST: '127.0.0.1',
    ML_PORT: String(mlPort),
    ML_TOKEN: mlToken,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  let replicas: Awaited<ReturnType<typeof startReplicas>> | undefined;
  try {
    const mlUrl = `http://127.0.0.1:${mlPort}`;
    await waitForHealthy(ml, `${mlUrl}/health`);
    replicas = await startReplicas(engines, mlUrl, { ...benchEnv, ML_TOKEN: mlToken }, dataDir);
    const { s, headers } = await benchHeaders(replicas.url, 'perf-replicas@example.com');
    const ents = (await s.api.entities({ query: { q: '', limit: 100 } })).entities;
    const codes = ents
      .filter((e) => (e.firstDate ?? '9999') <= '2013-02-11' && (e.lastDate ?? '') >= '2018-02-01')
      .map((e) => e.code);
    const dates = (await s.api.prices({ params: { code: codes[0]! } })).rows.map((r) => r.date);
    console.log(
      `two replicas on PostgreSQL + Redis behind nginx, real ml-service on ${codes.length} stocks; ${CONNECTIONS} connections x ${SECONDS}s after a ${WARMUP}s warm-up`,
    );
    const gen = bodies(codes, dates);
    const request = {
      method: 'POST',
      headers,
      setupRequest: (req: autocannon.Request) => ({ ...req, body: gen.next() }),
    };
    const url = `${replicas.url}/api/v1/similar`;
    if (WARMUP > 0)
      await autocannon({ url, connections: CONNECTIONS, duration: WARMUP, requests: [request] });
    // BENCH_RATE holds the measured random phase below saturation, as in overhead.ts: backend's CPU per
    // request at a rate ml-service keeps up with, against the same at saturation.
    const rate = Number(process.env.BENCH_RATE ?? 0);
    const random = await measured(
      {
        url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [request],
        ...(rate > 0 ? { overallRate: rate } : {}),
      },
      [
        { name: 'backends', pids: replicas.backends.map((b) => b.child.pid!) },
        { name: 'ml-service', pids: [ml.child.pid!] },
        { name: 'postgres', pids: [engines.postgresPid] },
        { name: 'redis', pids: [engines.redisPid] },
      ],
    );
    const canned = await s.api.similar({ body: JSON.parse(gen.next()) });
    await replicas.stop();
    replicas = undefined;
    await stopProcess(ml);
    await new Promise((ok) => setTimeout(ok, 5_000));
    const alone = await replicasOverhead(
      engines,
      canned,
      gen.next,
      SECONDS,
      CONNECTIONS,
      benchEnv,
      dataDir,
      WARMUP,
    );

    console.log('\nfigures (2-core machine shared with other work: treat as noisy)');
    report(`similar, random, ${REPLICAS} pg+redis`, random.result);
    reportCpu(random.cpu);
    report(`backend alone, ${REPLICAS} pg+redis`, alone.pgRedis.result);
    reportCpu(alone.pgRedis.cpu);
    if (alone.sqlite) {
      report('backend alone, 1 process sqlite', alone.sqlite.result);
      console.log(`  CPU per request: backend ${alone.sqlite.cpuMsPerRequest.toFixed(2)} ms`);
    }
    console.log(
      `\ntarget (>= 300 req/s, p99 <= 250 ms, 0 errors) on random queries through ${REPLICAS}: ${meetsTarget(random.result) ? 'met' : 'NOT met'}`,
    );
  } finally {
    await replicas?.stop();
    await stopProcess(ml);
    await engines.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (SCENARIO === 'overhead') return overheadOnly();
  if (SCENARIO === 'replicas') return replicasScenario();
  if (SCENARIO === 'replicas-overhead') return replicasOverheadOnly();
  if (SCENARIO !== 'all' && SCENARIO !== 'fairness')
    throw new Error(
      `BENCH_SCENARIO must be "all", "overhead", "replicas", "replicas-overhead" or "fairness", not "${SCENARIO}"`,
    );
  const work = mkdtempSync(join(tmpdir(), 'resemble-bench-'));
  const dataDir = join(work, 'data');
  console.log(`importing demo data (${demo}) ...`);
  await importFixture(dataDir, demo);
  const env = benchEnv;
  const stack = await startStack({ dataDir, env });
  let stopped = false;
  try {
    const base = stack.backendUrl;
    const creds = { email: 'perf-user@example.com', password: 'load test long secret 42' };
    const s = await proSession(base, creds.email);
    // Stocks with the full 2013-2018 history, and the trading calendar from one of them.
    const ents = (await s.api.entities({ query: { q: '', limit: 100 } })).entities;
    const codes = ents
      .filter((e) => (e.firstDate ?? '9999') <= '2013-02-11' && (e.lastDate ?? '') >= '2018-02-01')
      .map((e) => e.code);
    const dates = (await s.api.prices({ params: { code: codes[0]! } })).rows.map((r) => r.date);
    console.log(
      `stack up: ${ents.length} entities listed, ${codes.length} with full history, ${dates.length} trading days; ${CONNECTIONS} connections x ${SECONDS}s (random phases after a ${WARMUP}s warm-up)`,
    );
    if (SCENARIO === 'fairness') {
      await tenAtOnce(base, codes, dates);
      return;
    }
    const gen = bodies(codes, dates);
    const randomBody = gen.next;
    const headers = { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf };
    // A pause between phases lets requests still queued in ml-service drain, so phases do not overlap.
    const run = async (opts: autocannon.Options) => {
      const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
      await new Promise((ok) => setTimeout(ok, 10_000));
      return r;
    };

    // Access tokens live 15 minutes; the whole bench is well inside that.
    const warmup = WARMUP > 0 ? { warmup: { connections: CONNECTIONS, duration: WARMUP } } : {};
    const random = await run({
      ...warmup,
      url: `${base}/api/v1/similar`,
      requests: [{ method: 'POST', headers, setupRequest: (req) => ({ ...req, body: randomBody() }) }],
    });
    // The same kind of load straight at ml-service, to separate backend's own overhead. The sequence goes
    // on (not from its start again): ml-service caches the answers of repeated requests, and every
    // random-phase request must be searched.
    const direct = await run({
      ...warmup,
      url: `${stack.mlUrl}/v1/similar`,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.mlToken}` },
          setupRequest: (req) => ({ ...req, body: randomBody() }),
        },
      ],
    });
    const fixed = randomBody();
    const repeated = await run({
      url: `${base}/api/v1/similar`,
      method: 'POST',
      headers,
      body: fixed,
      duration: Math.min(SECONDS, 15),
    });
    const login = await run({
      url: `${base}/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(creds),
      connections: 20,
      duration: Math.min(SECONDS, 15),
    });

    const canned = await s.api.similar({ body: JSON.parse(fixed) });
    await tenAtOnce(base, codes, dates);
    await stack.stop();
    stopped = true;
    const overhead = await backendOverhead(canned, randomBody, SECONDS, CONNECTIONS, env, WARMUP);

    console.log('\nfigures (2-core machine shared with other work: treat as noisy)');
    report('similar, random stock+window', random);
    report('ml-service direct, random (no backend)', direct);
    report('similar, one repeated query', repeated);
    report('login (scrypt N=2^15, bounded)', login);
    reportOverhead(overhead);
    const ok = meetsTarget(random);
    console.log(
      `\ntarget (>= 300 req/s, p99 <= 250 ms, 0 errors) on random queries: ${ok ? 'met' : 'NOT met'}`,
    );
  } finally {
    if (!stopped) await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
