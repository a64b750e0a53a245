/**
 * backend's own ceiling: a second backend process in front of an ml-service stand-in that answers a
 * canned (real) response instantly, so what is measured is auth, CSRF, plan check, quota write, proxying.
 */
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort, startProcess, stopProcess, waitForHealthy } from '../../scripts/processes.js';
import { benchHeaders } from './http.js';

/** utime + stime in ms of a process and its descendants (in case a loader runs the server in a child). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  let ms = (Number(fields[11]) + Number(fields[12])) * 10;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    for (const kid of kids ? kids.split(' ') : []) ms += cpuMs(Number(kid));
  }
  return ms;
}

/**
 * Besides throughput, reports backend CPU time per request: on a shared, overloaded machine that is
 * the figure that does not depend on how much CPU the other processes left us.
 */
/** An ml-service stand-in on a free loopback port that answers every search with `canned` at once. */
// BENCH_ML_DELAY_MS: the stand-in answers after this long, as the real ml-service does under load
// (requests then stay in flight in backend for that long: a cost per request that grows with it is
// per-request state kept alive, not the work itself).
const ML_DELAY_MS = Number(process.env.BENCH_ML_DELAY_MS ?? 0);

export async function cannedMl(canned: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const cannedText = JSON.stringify(canned);
  const health = JSON.stringify({
    status: 'ready',
    dataVersion: 'canned',
    entities: 1,
    points: 1,
    loadedAt: null,
    lastReloadError: null,
    models: [],
  });
  const ml = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const answer = () => res.end(req.url === '/health' ? health : cannedText);
      if (ML_DELAY_MS > 0 && req.url !== '/health') setTimeout(answer, ML_DELAY_MS);
      else answer();
    });
  });
  await new Promise<void>((ok) => ml.listen(0, '127.0.0.1', () => ok()));
  return {
    url: `http://127.0.0.1:${(ml.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => ml.close(() => ok())),
  };
}

/**
 * The /similar load of the backend-alone phases, as a Pro user of `base`: a warm-up that is not counted,
 * then the options of the measured run. The warm-up is there because a fresh process spends its first
 * seconds compiling (V8's optimising compiler took a quarter of backend's CPU 8-16 s after start in a
 * perf profile), which a long-running service has behind it; without it, the slower the host, the more of
 * that start-up each request was charged. BENCH_RATE (requests a second, all connections together) holds
 * the measured load below saturation: a CPU cost per request that falls as the rate rises is work done
 * per second, not per request, and A and B then get the same requests a second.
 */
export async function similarLoad(
  base: string,
  email: string,
  body: () => string,
  o: { connections: number; seconds: number; warmupSeconds: number },
): Promise<autocannon.Options> {
  const { headers } = await benchHeaders(base, email);
  const request = {
    method: 'POST',
    headers,
    setupRequest: (req: autocannon.Request) => ({ ...req, body: body() }),
  };
  const url = `${base}/api/v1/similar`;
  if (o.warmupSeconds > 0)
    await autocannon({ url, connections: o.connections, duration: o.warmupSeconds, requests: [request] });
  const rate = Number(process.env.BENCH_RATE ?? 0);
  return {
    url,
    connections: o.connections,
    duration: o.seconds,
    ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [request],
  };
}

export async function backendOverhead(
  canned: unknown,
  body: () => string,
  seconds: number,
  connections: number,
  env: Record<string, string>,
  warmupSeconds = 0,
): Promise<{ result: autocannon.Result; cpuMsPerRequest: number; benchCpuMsPerRequest: number }> {
  const ml = await cannedMl(canned);
  const dir = mkdtempSync(join(tmpdir(), 'resemble-overhead-'));
  const port = await freePort();
  // Started like scripts/start.ts does; BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  // go to this backend's node only, which is how its profile is taken.
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // BENCH_BACKEND_ENTRY: another checkout's server.ts, to compare two versions under the same load.
  const entry = process.env.BENCH_BACKEND_ENTRY ?? 'backend/src/server.ts';
  const backend = startProcess('backend (overhead)', process.execPath, [...flags, '--import', 'tsx', entry], {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(port),
    ML_URL: ml.url,
    APP_DB: join(dir, 'app.sqlite'),
    DATA_DIR: join(dir, 'data'),
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHealthy(backend, `${base}/api/v1/health`);
    const measuredRun = await similarLoad(base, 'overhead@example.com', body, {
      connections,
      seconds,
      warmupSeconds,
    });
    const before = cpuMs(backend.child.pid!);
    const benchBefore = process.cpuUsage();
    const result = await autocannon(measuredRun);
    const cpuMsPerRequest = (cpuMs(backend.child.pid!) - before) / Math.max(1, result.requests.total);
    // This process is autocannon plus the stand-in: the share of the 2 cores the backend cannot have.
    const bench = process.cpuUsage(benchBefore);
    const benchCpuMsPerRequest = (bench.user + bench.system) / 1000 / Math.max(1, result.requests.total);
    return { result, cpuMsPerRequest, benchCpuMsPerRequest };
  } finally {
    await stopProcess(backend);
    await ml.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
