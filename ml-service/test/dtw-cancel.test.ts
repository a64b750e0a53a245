/**
 * Cancelling a long DTW search over HTTP stops the work inside the kernel's call, not after it: a
 * full-band DTW at L = 500 over stocks of 20,000 closes spends its first call (one stock, no threshold
 * yet: a DTW of every window, ~250,000 cells each) computing seconds of DTWs, and neither the pool nor
 * worker.terminate() can interrupt native code. The search's control word reaches the kernel, which reads
 * it about once a millisecond of work. Asserted on behaviour, not time: the pool never replaces the
 * worker (its stop grace is far longer than the test), the shared work counter shows the call stopped
 * part-way through its first stock and then stays still, the one worker answers the next search, and the
 * pool closes while a long search runs. Time taken: bench/dtw-cancel.ts (`npm run bench:cancel`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema, mlHealthSchema, similarResponseSchema, type MlHealth } from '@resemble/contracts';
import { DTW_STAT } from '../src/kernels/dtw-search.js';
import type { DtwKernelName } from '../src/kernels/seam.js';
import { market, start, type Running } from './support/http-service.js';
import { writeStore } from './support/write-store.js';

const nativeExpected = process.arch === 'x64' && process.platform === 'linux';
const kernels: DtwKernelName[] = nativeExpected ? ['native', 'wasm'] : ['wasm'];
const CLOSES = 20_000;
const L = 500;
/**
 * The seed threshold's DTWs (scan.ts: 8 sampled windows per stock at topK 100), each a call of its own;
 * once they are counted the search is in its first long call (the WASM kernel counts at a call's end).
 */
const SEED_DTWS = 3 * 8;

describe.each(kernels)('cancelling a full-band DTW on long stocks (%s kernel, over HTTP)', (kernel) => {
  let dir: string;
  let svc: Running;
  const work = new Float64Array(new SharedArrayBuffer(8 * 8));
  const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${svc.url}/v1/similar`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
    });
  const search = async (): Promise<NonNullable<MlHealth['search']>> =>
    mlHealthSchema.parse(await (await fetch(`${svc.url}/health`)).json()).search!;
  const until = async (ok: (s: NonNullable<MlHealth['search']>) => boolean) => {
    for (;;) {
      const s = await search();
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** DTWs computed so far by every search of the pool. */
  const dtws = () => work[DTW_STAT.dtw]!;
  const wave = (k: number, n: number) =>
    Array.from({ length: n }, (_, i) => Math.sin((i + k) / 9) + Math.sin(i / 31) + i / 200);
  // band 1: the whole matrix (L - 1 rows either side); topK 100 of 3 stocks: no seed threshold, so the
  // first call DTWs every window of its stock.
  const heavy = (k: number) => ({
    query: { series: wave(k, L) },
    metric: 'dtw' as const,
    band: 1,
    topK: 100,
    horizon: 10,
  });
  const light = { query: { series: wave(3, 30) }, topK: 5, horizon: 10 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-dtw-cancel-'));
    writeStore(dir, market(31, 3, CLOSES), 'v1');
    // Worker threads read the kernel choice from the environment they start with.
    process.env.ML_DTW_KERNEL = kernel;
    svc = await start(dir, {
      workers: 1,
      splitAbove: Number.MAX_SAFE_INTEGER,
      pool: { heavyCost: 1e9, stopGraceMs: 3_600_000, workCounter: work },
    });
    delete process.env.ML_DTW_KERNEL;
    // The worker is up (tsx compiles it first) before any test starts its clock.
    expect((await post(light)).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The cancelled search left its first kernel call part-way, and nothing runs any DTW after it. */
  async function expectStoppedInsideTheCall(before: number) {
    const s = await until((x) => x.running === 0);
    expect(s.workers).toBe(1);
    const done = dtws() - before;
    // Far from one stock's windows: the first call stopped part-way.
    expect(done).toBeLessThan(CLOSES - L + 1);
    // The one worker is free: an ordinary search is answered (it runs no DTW), and the count stands.
    const after = dtws();
    const res = await post(light);
    expect(res.status).toBe(200);
    expect(similarResponseSchema.parse(await res.json()).matches.length).toBe(5);
    expect(dtws()).toBe(after);
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Waits until the search is past its seed, inside the first stock's call (seconds of DTWs). */
  const intoTheCall = async (before: number) => {
    while (dtws() - before < SEED_DTWS) await sleep(10);
  };

  it("answers 504 when backend's deadline passes mid-call, and the worker leaves the call", async () => {
    const before = dtws();
    // 3 s: past the seed's DTWs (~0.3 s of WASM) and deep inside the first call (~45 s native).
    const res = await post(heavy(1), { 'x-deadline-ms': '3000' });
    expect(res.status).toBe(504);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe('search_timeout');
    await expectStoppedInsideTheCall(before);
  }, 120_000);

  it('stops the call when the client disconnects', async () => {
    const before = dtws();
    const { cancelled } = await search();
    const ac = new AbortController();
    const gone = post(heavy(2), {}, ac.signal).catch((e: unknown) => e);
    await intoTheCall(before);
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until((x) => x.cancelled === cancelled + 1);
    await expectStoppedInsideTheCall(before);
  }, 120_000);

  it('closes the pool while a long DTW search runs (its workers leave the call, then end)', async () => {
    const before = dtws();
    const pending = post(heavy(3));
    await intoTheCall(before);
    await svc.pool.close();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe('not_ready');
    expect(dtws() - before).toBeLessThan(CLOSES - L + 1);
  }, 120_000);
});
