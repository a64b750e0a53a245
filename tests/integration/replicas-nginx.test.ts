/**
 * Several replicas behave as one (issue 15, part 5): two backend processes behind a real nginx, sharing
 * Redis (quotas, limits, sessions, job queue and events) and one database, in front of the real
 * ml-service on the 30-ticker fixture. The free quota holds under 20 concurrent requests spread over both
 * replicas; a job's SSE stream is served by the replica that does not run it; and a replica killed with
 * SIGKILL under a load of signups, pattern saves and reads loses no acknowledged write, while the proxy
 * passes the requests it can to the surviving replica.
 *
 * The database is a real PostgreSQL (DATABASE_URL, started by backend's test support on a free loopback
 * port) shared by both processes, as in production; every check below goes through the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieJar, createApiClient, type ApiClient } from '@resemble/contracts';
import {
  freePort,
  startProcess,
  stopProcess,
  waitForHealthy,
  type Managed,
} from '../../scripts/processes.js';
import { openEvents } from '../../backend/test/support/sse.js';
import { startPostgres, type PostgresServer } from '../../backend/test/support/postgres-server.js';
import { startNginx, startRedis, type Engine, type Nginx } from '../support/engines.js';
import { importFixture } from '../support/stack.js';

const PASSWORD = 'integration long secret';
const query = { query: { code: 'AAPL', start: '2016-01-04', end: '2016-03-01' }, topK: 5, horizon: 20 };

/**
 * A browser's session through the typed client of the route contract: cookies kept, the CSRF header
 * sent on writes. `at` is the same session talking to one replica directly instead of the proxy.
 */
class Session {
  private readonly jar = cookieJar();
  readonly api: ApiClient;
  constructor(base: string) {
    this.api = this.at(base);
  }
  at(base: string): ApiClient {
    return createApiClient({
      fetch: this.jar.fetch,
      csrfToken: this.jar.csrfToken,
      baseUrl: `${base}/api/v1`,
    });
  }
  cookie(): string {
    return [...this.jar.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

describe('two backend replicas behind nginx', () => {
  let work: string;
  let redis: Engine;
  let postgres: PostgresServer;
  let nginx: Nginx;
  const procs: Managed[] = [];
  let ml: Managed;
  /** Serves the API only (JOBS_WORKER=false): every job runs on `b`. */
  let a: { proc: Managed; addr: string };
  let b: { proc: Managed; addr: string };
  let seq = 0;
  const email = (tag: string) => `${tag}-${process.pid}-${++seq}@example.com`;

  async function signUp(tag: string): Promise<Session> {
    const s = new Session(nginx.url);
    await s.api.register({ body: { email: email(tag), password: PASSWORD } });
    return s;
  }

  async function pro(tag: string): Promise<Session> {
    const s = await signUp(tag);
    const co = await s.api.checkout({ body: { plan: 'pro', provider: 'sandbox' } });
    const session = new URL(co.redirectUrl, 'http://x').searchParams.get('session')!;
    const done = await s.api.sandboxComplete({ body: { session, outcome: 'success' } });
    if (done.plan !== 'pro')
      throw new Error(`upgrade: ${JSON.stringify(done)}\n${procs.map((p) => p.tail.join('\n')).join('\n')}`);
    return s;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'resemble-replicas-'));
    const dataDir = join(work, 'data');
    await importFixture(dataDir);
    redis = await startRedis();
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase('resemble');
    const mlPort = await freePort();
    const mlToken = 'replicas-ml-token';
    ml = startProcess('ml-service', process.execPath, ['--import', 'tsx', 'ml-service/src/server.ts'], {
      ML_HOST: '127.0.0.1',
      ML_PORT: String(mlPort),
      ML_TOKEN: mlToken,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    });
    procs.push(ml);
    const env = {
      NODE_ENV: 'test',
      ML_URL: `http://127.0.0.1:${mlPort}`,
      ML_TOKEN: mlToken,
      DATA_DIR: dataDir,
      // Where both replicas keep accounts, sessions, subscriptions and jobs.
      DATABASE_URL: databaseUrl,
      APP_DB: join(work, 'unused.sqlite'),
      REDIS_URL: redis.url,
      JWT_SECRET: 'replicas-test-secret-'.padEnd(48, 'x'),
      SCRYPT_LOG_N: '12',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_IP_PER_MIN: '1000000',
      RATE_LIMIT_USER_PER_MIN: '1000000',
      LOGIN_MAX_PER_IP: '1000000',
    };
    const backend = async (extra: Record<string, string>) => {
      const port = await freePort();
      const proc = startProcess('backend', process.execPath, ['--import', 'tsx', 'backend/src/server.ts'], {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        ...extra,
      });
      procs.push(proc);
      await waitForHealthy(proc, `http://127.0.0.1:${port}/api/v1/health`);
      return { proc, addr: `127.0.0.1:${port}` };
    };
    // One after the other (a replica starting while the other migrates would wait on the advisory lock).
    a = await backend({ JOBS_WORKER: 'false' });
    b = await backend({});
    await waitForHealthy(ml, `http://127.0.0.1:${mlPort}/health`);
    nginx = await startNginx([a.addr, b.addr]);
  }, 240_000);

  afterAll(async () => {
    await nginx?.stop();
    for (const p of procs.reverse()) await stopProcess(p);
    await redis?.stop();
    await postgres?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("holds a free user's 5 searches a day under 20 concurrent requests spread over both replicas", async () => {
    const s = await signUp('quota');
    const before = nginx.accessLog().length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => s.api.$response('similar', { body: query })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(15);
    const served = nginx
      .accessLog()
      .slice(before)
      .filter((l) => l.path === '/api/v1/similar');
    expect(new Set(served.flatMap((l) => l.upstreams))).toEqual(new Set([a.addr, b.addr]));
    for (const replica of [a, b])
      expect((await s.at(`http://${replica.addr}`).me()).usage.searchesToday).toBe(5);
  });

  it('streams the progress of a job to a client whose stream is held by the replica that does not run it', async () => {
    const s = await pro('sse');
    // Round robin: one of the next streams through the proxy lands on the worker-less replica.
    let stream = await openEvents(nginx.url, s.cookie());
    for (let i = 0; i < 5 && stream.headers.get('x-upstream') !== a.addr; i++) {
      stream.close();
      stream = await openEvents(nginx.url, s.cookie());
    }
    try {
      expect(stream.headers.get('x-upstream')).toBe(a.addr);
      const { id } = await s.api.createJob({
        body: {
          kind: 'backtest',
          params: { code: 'AAPL', windowLength: 30, horizon: 10, samples: 3, topK: 5 },
        },
      });
      const done = await stream.waitFor((e) => e.type === 'job.done' && e.data.id === id, 60_000);
      expect(done.data.status).toBe('succeeded');
      const progress = stream.events.filter((e) => e.type === 'job.progress' && e.data.id === id);
      expect(progress.map((e) => e.data.progress)).toEqual([1 / 3, 2 / 3, 1]);
      expect(((await s.api.job({ params: { id } })).result as { samples: unknown[] }).samples).toHaveLength(
        3,
      );
    } finally {
      stream.close();
    }
  });

  it('loses no acknowledged write when a replica is killed (SIGKILL) under load, and the proxy retries', async () => {
    // Eight Pro upgrades at once over both replicas (on one SQLite file shared by two processes these
    // failed with SQLITE_BUSY; PostgreSQL takes them concurrently).
    const owners: Session[] = await Promise.all(Array.from({ length: 8 }, (_, i) => pro(`owner${i}`)));
    const before = nginx.accessLog().length;
    const signups: { email: string }[] = [];
    const patterns: { owner: number; id: string }[] = [];
    const answers: { method: string; route: string; status: number }[] = [];
    const started = Date.now();
    let killed = false;
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 1_500));
      b.proc.child.kill('SIGKILL');
      killed = true;
    })();
    await Promise.all(
      owners.map(async (owner, w) => {
        for (let i = 0; Date.now() - started < 6_000; i++) {
          if (i % 3 === 0) {
            const e = email(`load${w}`);
            const r = await new Session(nginx.url).api.$response('register', {
              body: { email: e, password: PASSWORD },
            });
            answers.push({ method: 'POST', route: 'register', status: r.status });
            if (r.status === 201) signups.push({ email: e });
          } else if (i % 3 === 1 && patterns.filter((p) => p.owner === w).length < 45) {
            const r = await owner.api.$response('createPattern', {
              body: { name: `p${i}`, request: query, threshold: 1 },
            });
            answers.push({ method: 'POST', route: 'createPattern', status: r.status });
            if (r.status === 201) patterns.push({ owner: w, id: ((await r.json()) as { id: string }).id });
          } else {
            const r = await owner.api.$response('me');
            answers.push({ method: 'GET', route: 'me', status: r.status });
          }
        }
      }),
    );
    await killer;
    expect(killed).toBe(true);
    expect(signups.length).toBeGreaterThan(10);
    expect(patterns.length).toBeGreaterThan(10);

    // Every acknowledged write is there, read back through the surviving replica.
    for (const { email: e } of signups) {
      const r = await new Session(nginx.url).api.$response('login', {
        body: { email: e, password: PASSWORD },
      });
      expect(r.status, e).toBe(200);
    }
    for (const [w, owner] of owners.entries()) {
      const stored = (await owner.api.listPatterns()).patterns;
      const ids = new Set(stored.map((p) => p.id));
      for (const p of patterns.filter((x) => x.owner === w)) expect(ids.has(p.id), p.id).toBe(true);
      // A save the client sent twice (its answer lost with the replica) was made once: names are unique.
      expect(stored.length, `owner ${w}`).toBe(new Set(stored.map((p) => p.name)).size);
    }

    // The proxy passed requests to the live replica: every read was answered, and some only after a retry.
    const log = nginx.accessLog().slice(before);
    const retried = log.filter((l) => l.upstreams.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const l of retried) expect(l.status).toBeLessThan(500);
    // Writes too, when the killed replica refused the connection (nothing had been sent yet).
    expect(retried.filter((l) => l.method === 'POST' && l.status === 201).length).toBeGreaterThan(0);
    expect(answers.filter((x) => x.method === 'GET' && x.status !== 200)).toEqual([]);
    // The only failures: writes already sent to the killed replica when it died, which nginx rightly
    // does not send twice (they were never acknowledged, so none is a lost write).
    const failed = log.filter((l) => l.status >= 500);
    for (const l of failed) {
      expect(l.method).toBe('POST');
      expect(l.upstreams).toEqual([b.addr]);
    }
    expect(failed.length).toBeLessThanOrEqual(owners.length);
    // A pattern save takes an Idempotency-Key: the client sent a lost one again with its key, so no save
    // failed; the failures a user saw are the sign-ups among nginx's 502s.
    expect(answers.filter((x) => x.route === 'createPattern' && x.status !== 201)).toEqual([]);
    expect(answers.filter((x) => x.status >= 500)).toHaveLength(
      failed.filter((l) => !l.path.startsWith('/api/v1/patterns')).length,
    );
  });
});
