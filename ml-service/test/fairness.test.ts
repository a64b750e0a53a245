/**
 * A long search never holds up a short one, over HTTP: the heavy lane never holds every worker, ordinary
 * searches are answered while heavy ones are held, and a cancelled search (client gone, deadline passed)
 * frees its worker. Heavy searches are held on their workers by the pool's test gate, so the tests assert
 * what happens, never how long it takes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  errorBodySchema,
  mlHealthSchema,
  predictResponseSchema,
  similarResponseSchema,
  type MlHealth,
} from '@resemble/contracts';
import { findSimilar } from '../src/search/similarity.service.js';
import { market, start, type Running } from './support/http-service.js';
import { writeStore, type FixtureEntity } from './support/write-store.js';

const gate = new Int32Array(new SharedArrayBuffer(4));
const closeGate = () => Atomics.store(gate, 0, 0);
const openGate = () => {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
};

describe('fair search over HTTP (heavy lane, cancellation)', () => {
  let dir: string;
  let fx: FixtureEntity[];
  let svc: Running;
  const json = { 'content-type': 'application/json' };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: JSON.stringify(body),
      signal,
    });
  const health = async (): Promise<MlHealth> =>
    mlHealthSchema.parse(await (await fetch(`${svc.url}/health`)).json());
  const search = async () => (await health()).search!;
  /** Polls /health until `ok` holds (the pool's state changes as messages between threads arrive). */
  const until = async (ok: (s: NonNullable<MlHealth['search']>) => boolean) => {
    for (;;) {
      const s = await search();
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  // DTW at L = 60 (band 6) over 16 x ~490 windows costs ~6e6 (windows x L x 13 cells); zned at L = 30
  // ~2.5e5; the 250-day analogue search of the predict test ~1.1e6: a threshold between.
  const HEAVY_COST = 1e6;
  const series = (k: number, L: number) =>
    Array.from({ length: L }, (_, i) => Math.sin((i + k) / 7) + i / 40);
  const heavy = (k: number) => ({
    query: { series: series(k, 60) },
    metric: 'dtw' as const,
    topK: 5,
    horizon: 10,
  });
  const light = (k: number) => ({ query: { series: series(k, 30) }, topK: 5, horizon: 10 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-fair-'));
    fx = market(21, 16, 560);
    writeStore(dir, fx, 'v1');
    svc = await start(dir, {
      workers: 2,
      splitAbove: Number.MAX_SAFE_INTEGER,
      pool: { heavyCost: HEAVY_COST, heavyGate: gate },
    });
  });
  afterEach(openGate);
  afterAll(async () => {
    openGate();
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps heavy searches to their lane while ordinary ones are answered, then answers them exactly', async () => {
    closeGate();
    const held = [0, 1, 2].map((k) => post('/v1/similar', heavy(k)));
    // One heavy search runs, split over the heavy lane's own two threads (decision 122); the other two
    // wait in the heavy queue; neither ordinary worker holds one.
    // (Each worker reports its nice value once it has started.)
    const s = await until(
      (x) =>
        x.heavyRunning === 1 && x.heavyQueued === 2 && x.running === 2 && x.nice!.every((n) => n !== null),
    );
    expect(s).toMatchObject({ workers: 2, heavyWorkers: 2, heavyLane: 'own' });
    const ordinary = s.nice![0]!;
    expect(s.nice).toEqual([ordinary, ordinary]);
    expect(s.heavyNice).toEqual([Math.min(19, ordinary + 9), Math.min(19, ordinary + 9)]);
    // Ordinary searches are answered while the heavy ones are held.
    for (let k = 0; k < 6; k++) {
      const res = await post('/v1/similar', light(k));
      expect(res.status).toBe(200);
      const got = similarResponseSchema.parse(await res.json());
      expect(got.matches).toEqual(findSimilar(svc.state.data!, light(k)).matches);
    }
    expect(await search()).toMatchObject({ heavyRunning: 1, heavyQueued: 2 });
    openGate();
    const answers = await Promise.all(held);
    for (const [k, res] of answers.entries()) {
      expect(res.status).toBe(200);
      const got = similarResponseSchema.parse(await res.json());
      expect(got.matches).toEqual(findSimilar(svc.state.data!, heavy(k)).matches);
    }
    expect(await until((x) => x.running === 0)).toMatchObject({ heavyRunning: 0, heavyQueued: 0 });
  });

  it('stops a search whose client went away: its worker is freed and its chunks are left', async () => {
    closeGate();
    const cancelledBefore = (await search()).cancelled;
    const abandonedBefore = await metric('ml_search_abandoned_chunks_total');
    const ac = new AbortController();
    const gone = post('/v1/similar', heavy(7), {}, ac.signal).catch((e: unknown) => e);
    await until((x) => x.heavyRunning === 1);
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    // The worker left the search at its next chunk boundary (here: the gate it waits at) without the
    // gate opening, and holds nothing now.
    const s = await until((x) => x.running === 0 && x.cancelled === cancelledBefore + 1);
    expect(s.abandonedChunks).toBeGreaterThan(0);
    expect(await metric('ml_search_abandoned_chunks_total')).toBeGreaterThan(abandonedBefore);
    expect(await metric('ml_search_cancelled_total{reason="client_gone"}')).toBeGreaterThanOrEqual(1);
    openGate();
    const res = await post('/v1/similar', heavy(8));
    expect(res.status).toBe(200);
  });

  it("answers 504 search_timeout when backend's deadline passes, running or still queued, and frees the lane", async () => {
    closeGate();
    const running = post('/v1/similar', heavy(11), { 'x-deadline-ms': '400' });
    await until((x) => x.heavyRunning === 1);
    const queued = post('/v1/similar', heavy(12), { 'x-deadline-ms': '300' });
    for (const res of await Promise.all([running, queued])) {
      expect(res.status).toBe(504);
      const body = errorBodySchema.parse(await res.json());
      expect(body.error.code).toBe('search_timeout');
      expect(body.error.message).toMatch(/time budget of \d+ ms/);
    }
    await until((x) => x.running === 0 && x.heavyQueued === 0);
    expect(await metric('ml_search_cancelled_total{reason="deadline"}')).toBe(2);
  });

  it('refuses a deadline header that is not a number of milliseconds', async () => {
    for (const bad of ['soon', '-5', '0', '1.5']) {
      const res = await post('/v1/similar', light(1), { 'x-deadline-ms': bad });
      expect(res.status).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.message).toContain('x-deadline-ms');
    }
  });

  it("runs /v1/predict's analogue search on the pool (held like any heavy search), answering exactly", async () => {
    closeGate();
    const e = fx[3]!;
    // A 250-day query by code: its zned search (~4,500 windows x 250) is a heavy one here.
    const body = { query: { code: e.code, start: e.dates[100]!, end: e.dates[349]! }, horizon: 10 };
    const pending = post('/v1/predict', body);
    await until((x) => x.heavyRunning === 1);
    // Held on a worker, so the main thread is free: health and ordinary searches answer meanwhile.
    expect((await post('/v1/similar', light(3))).status).toBe(200);
    openGate();
    const res = await pending;
    expect(res.status).toBe(200);
    const got = predictResponseSchema.parse(await res.json());
    expect(got.forecast).toEqual(svc.registry.predict('analogue', body.query, 10).forecast);
  });
});
