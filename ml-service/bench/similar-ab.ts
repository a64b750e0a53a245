/**
 * ml-service alone under random /v1/similar load (backend bench's "ml-service direct, random" phase), and
 * the same load against other checkouts in turn, A B A B …, in one run: the way to tell a regression from
 * the host's mood on a shared machine (issue 15). Each tree imports the demo data with its own scraper
 * (store formats move), serves it from its own ml-service, and gets the same seeded sequence of requests
 * (every one a different random stock and window, L 20-119, so the result cache answers none).
 *
 * Prints per run: req/s, p50/p99, and ml-service's CPU per request from /proc (all threads; the main
 * thread and the two busiest others apart), the figure that drifts least with other load.
 *
 * Env: BENCH_TREES (comma-separated checkout roots; default this one), BENCH_ROUNDS (3), BENCH_SECONDS
 * (15), BENCH_WARMUP_SECONDS (5), BENCH_CONNECTIONS (50), BENCH_TOPK (10; cards asked for),
 * BENCH_NODE_FLAGS (extra node flags for the ml-service processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 * Run: `nice -n -15 npm run bench:similar-ab -w ml-service`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { freePort } from '../../scripts/processes.js';

const here = resolve(import.meta.dirname, '../..');
const trees = (process.env.BENCH_TREES ?? here).split(',').map((t) => resolve(t.trim()));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOPK = Number(process.env.BENCH_TOPK ?? 10);
const demo = 'scraper/demo/sandp500-5yr/prices.csv.gz';
const token = 'bench-token';
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** Stocks with the full 2013-2018 history and the calendar, read from the demo file itself. */
function calendar(): { codes: string[]; dates: string[] } {
  const first = new Map<string, string>();
  const last = new Map<string, string>();
  const dates: string[] = [];
  for (const line of gunzipSync(readFileSync(join(here, demo)))
    .toString()
    .split('\n')
    .slice(1)) {
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

/** The backend bench's random bodies (same generator and seed). */
function bodies({ codes, dates }: { codes: string[]; dates: string[] }): () => string {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return () => {
    const L = 20 + Math.floor(rand() * 100);
    const start = Math.floor(rand() * (dates.length - L - 1));
    const code = codes[Math.floor(rand() * codes.length)]!;
    return JSON.stringify({
      query: { code, start: dates[start], end: dates[start + L - 1] },
      topK: TOPK,
      horizon: 20,
    });
  };
}

function run(cwd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: 'ignore' });
}

async function importDemo(tree: string, dataDir: string): Promise<void> {
  const child = run(
    tree,
    [
      '--import',
      'tsx',
      'scraper/src/import.cli.ts',
      demo,
      '--data',
      dataDir,
      '--market',
      'US',
      '--currency',
      'USD',
    ],
    { LOG_LEVEL: 'warn' },
  );
  const code = await new Promise<number | null>((ok) => child.on('exit', ok));
  if (code !== 0) throw new Error(`demo import in ${tree} exited ${code}`);
}

/** CPU ms of each thread of a process, by thread id (Linux /proc; empty elsewhere). */
function threadCpu(pid: number): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime (fields 14 and 15) in clock ticks of 10 ms.
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name: tid === String(pid) ? 'main' : comm, ms });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CONNECTIONS closed loops for `seconds`: each sends a request, awaits its answer, sends the next. */
async function load(pool: Pool, next: () => string, seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const res = await pool.request({
          path: '/v1/similar',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: next(),
        });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return { n: latencies.length, errors, reqPerS: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

interface Figures {
  reqPerS: number;
  cpuPerReq: number;
}

async function measure(tree: string, dataDir: string, next: () => string): Promise<Figures> {
  const port = await freePort();
  const cache = mkdtempSync(join(tmpdir(), 'resemble-ab-cache-'));
  const ml = run(tree, [...nodeFlags, '--import', 'tsx', 'ml-service/src/server.ts'], {
    ML_HOST: '127.0.0.1',
    ML_PORT: String(port),
    ML_TOKEN: token,
    DATA_DIR: dataDir,
    ML_CACHE_DIR: cache,
    LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  const pool = new Pool(url, { connections: CONNECTIONS });
  try {
    for (let i = 0; ; i++) {
      if (ml.exitCode !== null) throw new Error(`ml-service in ${tree} exited ${ml.exitCode}`);
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error(`ml-service in ${tree} did not become healthy`);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (WARMUP > 0) await load(pool, next, WARMUP);
    const before = threadCpu(ml.pid!);
    const r = await load(pool, next, SECONDS);
    const after = threadCpu(ml.pid!);
    const used = [...after].map(([tid, t]) => ({ name: t.name, ms: t.ms - (before.get(tid)?.ms ?? 0) }));
    const total = used.reduce((s, t) => s + t.ms, 0);
    const per = (ms: number) => (r.n > 0 ? ms / r.n : NaN).toFixed(2);
    const main = used.find((t) => t.name === 'main')?.ms ?? 0;
    const busiest = used
      .filter((t) => t.name !== 'main')
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 2);
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    // The rest by thread name (V8's GC helpers, libuv's pool, the loaders), CPU ms per request.
    const byName = new Map<string, number>();
    for (const t of used)
      if (t.name !== 'main' && !busiest.includes(t)) byName.set(t.name, (byName.get(t.name) ?? 0) + t.ms);
    const rest = [...byName].filter(([, ms]) => ms > 0).map(([name, ms]) => `${name} ${per(ms)}`);
    console.log(
      `${tree.padEnd(28)} ${r.reqPerS.toFixed(1).padStart(7)} req/s  p50 ${String(r.p50).padStart(5)} ms  p99 ${String(r.p99).padStart(5)} ms  errors ${r.errors}  ` +
        `CPU/req ${per(total)} ms (main ${per(main)}, busiest threads ${busiest.map((t) => per(t.ms)).join(' + ')}; others: ${rest.join(', ')})  load ${load1}`,
    );
    return { reqPerS: r.reqPerS, cpuPerReq: r.n > 0 ? total / r.n : NaN };
  } finally {
    await pool.close();
    const exited = new Promise((ok) => ml.once('exit', ok));
    if (ml.exitCode === null) ml.kill('SIGTERM');
    await exited;
    rmSync(cache, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const cal = calendar();
  const work = mkdtempSync(join(tmpdir(), 'resemble-ab-'));
  try {
    const data = trees.map((_, i) => join(work, `data-${i}`));
    console.log(`importing the demo data into each of ${trees.length} tree(s) ...`);
    for (let i = 0; i < trees.length; i++) await importDemo(trees[i]!, data[i]!);
    console.log(
      `${ROUNDS} round(s), ${CONNECTIONS} connections x ${SECONDS}s after a ${WARMUP}s warm-up, topK ${TOPK}, trees in turn`,
    );
    const figures = trees.map((): Figures[] => []);
    // One request sequence per tree, so each sees the same requests in the same order.
    const next = trees.map(() => bodies(cal));
    for (let round = 0; round < ROUNDS; round++)
      for (let i = 0; i < trees.length; i++) figures[i]!.push(await measure(trees[i]!, data[i]!, next[i]!));
    console.log('\nmedians (req/s drifts with the host; CPU per request much less):');
    trees.forEach((t, i) => {
      const f = figures[i]!;
      console.log(
        `${t.padEnd(28)} ${median(f.map((x) => x.reqPerS))
          .toFixed(1)
          .padStart(7)} req/s  CPU/req ${median(f.map((x) => x.cpuPerReq)).toFixed(2)} ms`,
      );
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
