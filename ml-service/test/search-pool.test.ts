import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { dayToIso } from '../src/market/market-data.js';
import { marketFromEntities, randomWalkEntities } from '../src/predictors/synthetic-market.js';
import { admission, SearchPool, searchCost } from '../src/search/search-pool.js';
import { findSimilar, findSimilarWith } from '../src/search/similarity.service.js';
import { windowQuery } from './support/window-query.js';

// Searches below this cost run on one worker each, through the pool's queue.
const NEVER_SPLIT = Number.MAX_SAFE_INTEGER;

/**
 * For the time-limit tests: the full-band DTW searches below cost ~1e9 (windows × L × 2L+1) and go to
 * the heavy lane, whose shards wait before every chunk while the gate is shut, so they cannot finish
 * however fast the kernel or idle the machine; the zned search (~1e6) is ordinary and runs freely.
 */
const gated = () => ({
  heavyCost: 1e8,
  heavyGate: new Int32Array(new SharedArrayBuffer(4)),
  // These tests are about one worker and the queue in front of it: the heavy lane borrows it (079).
  heavyThreads: 0,
});

/** The nice value of every thread of this process, as the kernel schedules it (Linux), by thread id. */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

async function until<T>(get: () => T, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the search pool queue (one-worker searches)', () => {
  const market = marketFromEntities(randomWalkEntities(31, 12, 900));
  let pool: SearchPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  const request = (entity: number, from: number, L: number, topK = 5) => {
    return {
      query: windowQuery(market, entity, from, L),
      topK,
      horizon: 10,
    };
  };

  it('answers many concurrent searches, each exactly as the in-process search does', async () => {
    pool = new SearchPool(2, 0, NEVER_SPLIT);
    const requests = Array.from({ length: 24 }, (_, i) =>
      request(i % 12, (20 + 29 * i) % 500, 20 + ((i * 7) % 60)),
    );
    const got = await Promise.all(requests.map((r) => findSimilarWith(market, r, pool!.runner(market))));
    requests.forEach((r, i) => {
      const want = findSimilar(market, r);
      expect(got[i]!.matches, `request ${i}`).toEqual(want.matches);
      expect(got[i]!.candidates).toBe(want.candidates);
    });
  });

  it('stops a running search past its limit with 504, and then answers the search waiting behind it', async () => {
    const big = marketFromEntities(randomWalkEntities(5, 8, 3000));
    // A limit of 5 s: the quick search behind the stopped one is held to it too, and its worker runs at
    // nice +10, which on a machine loaded by other processes gets a small share of a core.
    pool = new SearchPool(1, 5000, NEVER_SPLIT, gated());
    const runner = pool.runner(big);
    const a = big.offsets[2]!;
    const quickReq = {
      query: { code: big.codes[2]!, start: dayToIso(big.days[a + 100]!), end: dayToIso(big.days[a + 159]!) },
      topK: 5,
      horizon: 10,
    };
    // The worker is started and warmed first (its first search loads the kernels: on a loaded machine
    // that alone can outlast the limit the quick search below is held to).
    await findSimilarWith(big, quickReq, runner);
    // Full-band DTW of a long query: a heavy search, held at the shut gate until the limit stops it.
    const slow = findSimilarWith(
      big,
      {
        query: { series: Array.from({ length: 200 }, (_, i) => Math.sin(i / 9) + i / 50) },
        metric: 'dtw',
        band: 1,
        topK: 50,
      },
      runner,
    );
    const quick = findSimilarWith(big, quickReq, runner);
    const err = await slow.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(504);
    expect((err as AppError).code).toBe('search_timeout');
    // The quick search waited behind the slow one on the only worker; it is answered, not failed.
    expect((await quick).matches).toEqual(findSimilar(big, quickReq).matches);
    expect(pool.stats().cancelled).toBe(1);
    // A borrowed worker keeps the ordinary priority through a heavy search (lowered, it could not raise
    // itself again without a privilege, decision 122).
    expect(pool.stats()).toMatchObject({ heavyLane: 'borrowed', nice: [Math.min(19, getPriority() + 10)] });
  }, 60_000);

  it('stops each of several too-long searches in turn, those behind the first after waiting in the queue', async () => {
    const big = marketFromEntities(randomWalkEntities(6, 8, 3000));
    pool = new SearchPool(1, 1500, NEVER_SPLIT, gated());
    const runner = pool.runner(big);
    const dtw = {
      query: { series: Array.from({ length: 200 }, (_, i) => Math.cos(i / 7) + i / 40) },
      metric: 'dtw' as const,
      band: 1,
      topK: 50,
    };
    // All three are heavy and held at the shut gate: one runs, the others wait in the heavy queue; each
    // is stopped after running for the limit, and its worker, told through the control word, takes the next.
    const results = await Promise.allSettled([0, 1, 2].map(() => findSimilarWith(big, dtw, runner)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(((r as PromiseRejectedResult).reason as AppError).code).toBe('search_timeout');
    }
    expect(pool.stats().cancelled).toBe(3);
  }, 60_000);
});

describe('the heavy lane on threads of its own (decision 122)', () => {
  const big = marketFromEntities(randomWalkEntities(7, 10, 2000));
  let pool: SearchPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });
  const heavyReq = (k: number) => ({
    query: { series: Array.from({ length: 120 }, (_, i) => Math.sin((i + k) / 9) + i / 50) },
    metric: 'dtw' as const,
    band: 0.2,
    topK: 10,
  });
  const a = big.offsets[1]!;
  const quickReq = {
    query: { code: big.codes[1]!, start: dayToIso(big.days[a + 50]!), end: dayToIso(big.days[a + 89]!) },
    topK: 5,
    horizon: 10,
  };

  it('splits a heavy search over every heavy thread, 9 nice steps below the ordinary workers, and a cancel stops every shard', async () => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    pool = new SearchPool(2, 0, NEVER_SPLIT, { heavyCost: 1e6, heavyThreads: 3, heavyGate: gate });
    const p = pool;
    const ac = new AbortController();
    const held = findSimilarWith(big, heavyReq(0), p.runner(big, { signal: ac.signal })).catch(
      (e: unknown) => e,
    );
    // All three heavy threads hold its shards (held at the shut gate); no ordinary worker does. (The
    // ordinary workers report their nice value once they have started.)
    const s = await until(
      () => p.stats(),
      (x) => x.heavyRunning === 1 && x.running === 3 && x.nice.every((n) => n !== null),
    );
    expect(s).toMatchObject({ workers: 2, heavyWorkers: 3, heavyLane: 'own' });
    // The priorities, as each thread read its own from /proc, and as the kernel lists the process's threads.
    const ordinary = s.nice[0]!;
    expect(ordinary).not.toBeNull();
    expect(s.nice).toEqual([ordinary, ordinary]);
    const low = Math.min(19, ordinary + 9);
    expect(s.heavyNice).toEqual([low, low, low]);
    if (ordinary < 19) expect(low).toBeGreaterThan(ordinary);
    const nices = [...threadNices().values()];
    expect(nices.filter((n) => n === low).length).toBeGreaterThanOrEqual(3);
    expect(nices.filter((n) => n === ordinary).length).toBeGreaterThanOrEqual(2);
    // An ordinary search is answered meanwhile, on its own worker.
    expect((await findSimilarWith(big, quickReq, p.runner(big))).matches).toEqual(
      findSimilar(big, quickReq).matches,
    );
    // The client goes away: every shard leaves at its next check without the gate opening.
    ac.abort();
    const err = await held;
    expect((err as AppError).code).toBe('client_closed');
    await until(
      () => p.stats(),
      (x) => x.running === 0,
    );
    expect(p.stats().abandonedChunks).toBeGreaterThan(0);
    // The lane is free again, and a split heavy search answers exactly as the in-process search does.
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    for (const k of [1, 2]) {
      const got = await findSimilarWith(big, heavyReq(k), p.runner(big));
      expect(got.matches).toEqual(findSimilar(big, heavyReq(k)).matches);
    }
  }, 120_000);
});

describe('one cost for admission (the heavy lane and the split over workers)', () => {
  /**
   * The slow twin: windows counted one by one; a DTW row's cells counted as the offsets the band allows
   * (before the matrix's edges clip them), the band capped at L - 1 as the kernels cap it.
   */
  function twinCost(metric: 'zned' | 'dtw', L: number, band: number, plan: number[]): number {
    let windows = 0;
    for (let k = 0; k < plan.length; k += 3) for (let t = plan[k + 1]!; t < plan[k + 2]!; t++) windows++;
    let cells = 1;
    if (metric === 'dtw') {
      cells = 0;
      for (let d = -(L - 1); d <= L - 1; d++) if (Math.abs(d) <= band) cells++;
    }
    return windows * L * cells;
  }

  const plan = Int32Array.from([0, 0, 700, 1, 910, 1400, 1, 1500, 1503, 3, 3000, 3000]);
  for (const [metric, L, band] of [
    ['zned', 60, 0],
    ['dtw', 60, 6],
    ['dtw', 250, 25],
    ['dtw', 8, 0],
    ['dtw', 40, 400],
  ] as const) {
    it(`${metric} L=${L} band ${band}: windows x L x cells, and both decisions from it`, () => {
      const spec = { metric, band, qn: new Float64Array(L) };
      const want = twinCost(metric, L, band, Array.from(plan));
      expect(searchCost(spec, plan)).toEqual({ windows: 700 + 490 + 3, cost: want });
      expect(admission(spec, plan, want, Infinity)).toEqual({ cost: want, heavy: true, split: false });
      expect(admission(spec, plan, want + 1, want)).toEqual({ cost: want, heavy: false, split: true });
      expect(admission(spec, plan, want + 1, want + 1)).toEqual({ cost: want, heavy: false, split: false });
    });
  }

  it('weighs a DTW window by its band: the same windows split as DTW and not as zned', () => {
    const zned = admission({ metric: 'zned', band: 0, qn: new Float64Array(60) }, plan, 1e12, 5e5);
    const dtw = admission({ metric: 'dtw', band: 6, qn: new Float64Array(60) }, plan, 1e12, 5e5);
    expect(zned).toMatchObject({ split: false, cost: 1193 * 60 });
    expect(dtw).toMatchObject({ split: true, cost: 1193 * 60 * 13 });
  });
});
