/**
 * BENCH_SCENARIO=replicas: the bench's load through two backend replicas on PostgreSQL + Redis behind
 * nginx, as the scale deployment runs them (docker-compose.scale.yml, the Helm chart). The engines are
 * the real Debian ones on free loopback ports, started and stopped here like the multi-replica test
 * does (tests/integration/replicas-nginx.test.ts).
 *
 * Two phases: random /similar through the real ml-service (the target: >= 300 req/s, p99 <= 250 ms,
 * 0 errors), then backend alone against an instant ml stand-in, measured for the two replicas on
 * PostgreSQL + Redis and, in the same run, for one backend on SQLite (A against B under the same host).
 * Beside req/s and latency it prints CPU per request of each process: on a shared machine that is the
 * figure that does not depend on what other work left us.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  freePort,
  startProcess,
  stopProcess,
  waitForHealthy,
  type Managed,
} from '../../scripts/processes.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.js';
import { startNginx, startRedis, type Engine, type Nginx } from '../../tests/support/engines.js';
import { backendOverhead, cannedMl, cpuMs, similarLoad } from './overhead.js';

export interface Engines {
  postgres: PostgresServer;
  redis: Engine;
  /** Process ids whose CPU is counted as the engine's (the postmaster with its connections; redis-server). */
  postgresPid: number;
  redisPid: number;
  stop(): Promise<void>;
}

export async function startEngines(): Promise<Engines> {
  const postgres = await startPostgres();
  const redis = await startRedis().catch(async (err: unknown) => {
    await postgres.stop();
    throw err;
  });
  const pids = async () => {
    // The postmaster is the parent of any connection's server process; its children are every connection.
    // Read while the connection is open: its server process exits with it.
    const c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    try {
      const backendPid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const stat = readFileSync(`/proc/${backendPid}/stat`, 'utf8');
      const postgresPid = Number(stat.split(') ')[1]!.split(' ')[1]);
      const r = new Redis(redis.url);
      const info = await r.info('server').finally(() => r.quit());
      return { postgresPid, redisPid: Number(/process_id:(\d+)/.exec(info)?.[1]) };
    } finally {
      await c.end();
    }
  };
  const { postgresPid, redisPid } = await pids().catch(async (err: unknown) => {
    await redis.stop();
    await postgres.stop();
    throw err;
  });
  return {
    postgres,
    redis,
    postgresPid,
    redisPid,
    async stop() {
      await redis.stop();
      await postgres.stop();
    },
  };
}

export interface Replicas {
  /** nginx in front of both. */
  url: string;
  backends: Managed[];
  stop(): Promise<void>;
}

/** Two backends on a fresh database of `engines`, one after the other (the second finds it migrated), behind nginx. */
export async function startReplicas(
  engines: Engines,
  mlUrl: string,
  env: Record<string, string>,
  dataDir: string,
): Promise<Replicas> {
  const databaseUrl = await engines.postgres.createDatabase();
  const backends: Managed[] = [];
  let nginx: Nginx | undefined;
  const stop = async () => {
    await nginx?.stop();
    for (const b of backends) await stopProcess(b);
  };
  try {
    const addrs: string[] = [];
    // BENCH_REPLICAS (default 2): one replica on the same engines tells what the second one costs on a
    // host whose two cores the whole stack shares.
    const count = Number(process.env.BENCH_REPLICAS ?? 2);
    for (let i = 1; i <= count; i++) {
      const port = await freePort();
      // BENCH_NODE_FLAGS and BENCH_BACKEND_ENTRY as in overhead.ts (a profile per replica; another
      // checkout's server.ts for an A/B under the same engines and load).
      const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
      const entry = process.env.BENCH_BACKEND_ENTRY ?? 'backend/src/server.ts';
      const args = [...flags, '--import', 'tsx', entry];
      const b = startProcess(`backend ${i}`, process.execPath, args, {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        ML_URL: mlUrl,
        DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        APP_DB: join(dataDir, 'unused.sqlite'),
        REDIS_URL: engines.redis.url,
        // Both replicas must accept each other's access tokens.
        JWT_SECRET: 'bench-replicas-secret-'.padEnd(48, 'x'),
      });
      backends.push(b);
      await waitForHealthy(b, `http://127.0.0.1:${port}/api/v1/health`);
      addrs.push(`127.0.0.1:${port}`);
    }
    nginx = await startNginx(addrs);
    return { url: nginx.url, backends, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface CpuShare {
  name: string;
  pids: number[];
}

/** Runs autocannon and reports, beside its result, each process group's CPU ms per request. */
export async function measured(
  opts: autocannon.Options,
  shares: CpuShare[],
): Promise<{ result: autocannon.Result; cpu: { name: string; msPerRequest: number }[] }> {
  const sum = (pids: number[]) => pids.reduce((t, p) => t + cpuMs(p), 0);
  const before = shares.map((s) => sum(s.pids));
  const result = await autocannon(opts);
  const n = Math.max(1, result.requests.total);
  return {
    result,
    cpu: shares.map((s, i) => ({ name: s.name, msPerRequest: (sum(s.pids) - before[i]!) / n })),
  };
}

export function reportCpu(cpu: { name: string; msPerRequest: number }[]): void {
  console.log(`  CPU per request: ${cpu.map((c) => `${c.name} ${c.msPerRequest.toFixed(2)} ms`).join(', ')}`);
}

/**
 * Backend alone: the two replicas on PostgreSQL + Redis, then one backend on SQLite, each in front of
 * the same instant stand-in answering `canned`, under the same load one after the other.
 */
export async function replicasOverhead(
  engines: Engines,
  canned: unknown,
  body: () => string,
  seconds: number,
  connections: number,
  env: Record<string, string>,
  dataDir: string,
  warmupSeconds: number,
) {
  const ml = await cannedMl(canned);
  let replicas: Replicas | undefined;
  try {
    replicas = await startReplicas(engines, ml.url, env, dataDir);
    // The same load as the SQLite run's (overhead.ts): warm-up, then BENCH_RATE if set.
    const measuredRun = await similarLoad(replicas.url, 'overhead-replicas@example.com', body, {
      connections,
      seconds,
      warmupSeconds,
    });
    const pgRedis = await measured(measuredRun, [
      { name: 'backends', pids: replicas.backends.map((b) => b.child.pid!) },
      { name: 'postgres', pids: [engines.postgresPid] },
      { name: 'redis', pids: [engines.redisPid] },
    ]);
    await replicas.stop();
    replicas = undefined;
    // BENCH_REPLICAS_ONLY=1: an A/B of the replicas alone, in half the time.
    const sqlite =
      process.env.BENCH_REPLICAS_ONLY === '1'
        ? null
        : await backendOverhead(canned, body, seconds, connections, env, warmupSeconds);
    return { pgRedis, sqlite };
  } finally {
    await replicas?.stop();
    await ml.close();
  }
}
