/**
 * The DTW kernels (native, WASM, TypeScript reference) against the slow twin (naiveNormalize +
 * naiveDtw2, the full matrix with the band): for a fixed threshold a kernel keeps exactly the windows
 * whose twin distance is within it, with the twin's distance; and a whole search returns the twin's
 * (code, start) list with its distances, for L 8..500, bands 0..50 % of L, topK 1 and 100, flat
 * stretches, huge price levels, exact copies, queries at a series' end, in-process and on the pool.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import {
  chooseDtwKernel,
  DTW_STAGES,
  DTW_STAT,
  dtwKernelByName,
  makeDtwScanner,
  SearchStopped,
} from '../src/kernels/dtw-search.js';
import type { DtwKernelName } from '../src/kernels/seam.js';
import type { MarketData } from '../src/market/market-data.js';
import { businessDates, marketFromEntities } from '../src/predictors/synthetic-market.js';
import { SearchPool } from '../src/search/search-pool.js';
import { greedyPicks } from '../src/search/top-picks.js';
import { findSimilar, findSimilarWith } from '../src/search/similarity.service.js';
import {
  naiveDtw2,
  naiveNormalize,
  naiveSimilar,
  type NaiveEntity,
  type NaiveRequest,
} from './naive-similarity.js';
import { rng } from './support/write-store.js';

const nativeExpected = process.arch === 'x64' && process.platform === 'linux';
const kernels: DtwKernelName[] = nativeExpected ? ['native', 'wasm', 'ts'] : ['wasm', 'ts'];

function walk(random: () => number, n: number, level: number, step: number, trend = 0): number[] {
  let v = level;
  return Array.from({ length: n }, () => {
    v += (random() + random() + random() - 1.5) * step + trend;
    return v;
  });
}

/** Random walks at ordinary and extreme scales, flat stretches, a trend and an exact copy (ties). */
function entitiesFor(seed: number, n: number): NaiveEntity[] {
  const random = rng(seed);
  const flat = Math.floor(n / 3);
  const series: [string, number[]][] = [
    ['A100', walk(random, n, 100, 1)],
    ['B1E6', walk(random, n, 1e6, 0.01)],
    ['C1EM3', walk(random, n, 1e-3, 1e-5)],
    ['D0TRND', walk(random, n, 10, 0.05, 0.3)],
    [
      'E0FLAT',
      [
        ...walk(random, flat, 50, 1),
        ...Array<number>(flat).fill(42.5),
        ...walk(random, n - 2 * flat, 42.5, 0.5),
      ],
    ],
    ['G0COPY', []],
  ];
  series[5]![1] = series[0]![1].slice(Math.floor(n / 4), Math.floor(n / 4) + Math.floor(n / 2));
  return series.map(([code, closes]) => ({
    code,
    closes,
    dates: businessDates('2001-01-01', closes.length),
  }));
}

const market = (ents: NaiveEntity[]): MarketData =>
  marketFromEntities(ents.map((e) => ({ code: e.code, dates: e.dates, closes: Array.from(e.closes) })));

/** Every candidate window's twin distance, by global start row. */
function twinDistances(data: MarketData, qn: number[], r: number): Map<number, number> {
  const L = qn.length;
  const out = new Map<number, number>();
  for (let e = 0; e < data.entities; e++) {
    for (let t = data.offsets[e]!; t + L <= data.offsets[e + 1]!; t++) {
      const w = naiveNormalize(Array.from(data.closes.subarray(t, t + L)), 'z');
      if (w) out.set(t, naiveDtw2(qn, w, r));
    }
  }
  return out;
}

describe('DTW kernels keep exactly the windows within the threshold', () => {
  const ents = entitiesFor(11, 260);
  const data = market(ents);

  it.runIf(nativeExpected)('has the native kernel built (npm install runs node-gyp)', () => {
    expect(dtwKernelByName('native')).not.toBeNull();
  });

  it('has the WASM kernel', () => {
    expect(dtwKernelByName('wasm')?.name).toBe('wasm');
  });

  for (const [L, bandFrac] of [
    [8, 0],
    [8, 0.5],
    [13, 0.1],
    [24, 0.25],
    [40, 0.05],
    [61, 0.5],
    [100, 0.1],
    [100, 0.2],
    // r + 1 = 24 fills the full-band DTW's vectors exactly: its last lane is a band cell whose left
    // neighbour lies outside the band (catches a stale slot past a diagonal's end).
    [100, 0.23],
    [150, 0.35],
  ] as const) {
    it(`L=${L}, band ${bandFrac * 100} %`, () => {
      const random = rng(L * 7 + 1);
      const r = Math.floor(bandFrac * L);
      // The query: a stretch of the first entity (so exact ties exist through the copy) or a fresh walk.
      const raw = L % 2 ? walk(random, L, 30, 1) : Array.from(data.closes.subarray(30, 30 + L));
      const qn = naiveNormalize(raw, 'z')!;
      const twin = twinDistances(data, qn, r);
      const sorted = [...twin.values()].sort((a, b) => a - b);
      const plan: number[] = [];
      for (let e = 0; e < data.entities; e++) {
        const hi = data.offsets[e + 1]! - L + 1;
        if (hi > data.offsets[e]!) plan.push(e, data.offsets[e]!, hi);
      }
      // The native kernel five times: as the search runs it (AVX2 where the CPU has it, the DTW by
      // anti-diagonals over the whole band when the band is wide enough, from a band of 8 behind a float
      // DTW that abandons first), its portable path, AVX2 with the row DTW, AVX2 with the
      // anti-diagonals over the live cells only, and AVX2 without the float DTW.
      const variants = kernels.flatMap((name) =>
        name === 'native' ? [name, 'native:scalar', 'native:rows', 'native:live', 'native:nof32'] : [name],
      );
      for (const variant of variants) {
        const [name, path] = variant.split(':') as [DtwKernelName, string?];
        const kernel = dtwKernelByName(name)!;
        const stages =
          path === 'scalar'
            ? DTW_STAGES.all | DTW_STAGES.scalar
            : path === 'rows'
              ? DTW_STAGES.all | DTW_STAGES.rows
              : path === 'live'
                ? DTW_STAGES.all | DTW_STAGES.live
                : path === 'nof32'
                  ? DTW_STAGES.all | DTW_STAGES.nof32
                  : DTW_STAGES.all;
        for (const q of [0, 0.001, 0.02, 0.3, 1]) {
          const tau2 = q === 1 ? Infinity : sorted[Math.floor(q * (sorted.length - 1))]!;
          const scan = makeDtwScanner(
            data,
            { qn: Float64Array.from(qn), band: r },
            kernel,
            new Float64Array(8),
            stages,
          );
          const found = scan.chunk!(Int32Array.from(plan), 0, plan.length, tau2);
          const got = new Map<number, number>();
          for (let x = 0; x < found.end[plan.length / 3 - 1]!; x++) got.set(found.t[x]!, found.d2[x]!);
          const want = [...twin].filter(([, d2]) => d2 <= tau2);
          expect(
            [...got.keys()].sort((a, b) => a - b),
            `${variant} tau2=${tau2}`,
          ).toEqual(want.map(([t]) => t).sort((a, b) => a - b));
          for (const [t, d2] of want) expect(got.get(t), `${variant} t=${t}`).toBe(d2);
          // Picks mode: per entity, exactly greedy's picks on every window within tau2 (in greedy's
          // order, with the twin's distances), and no DTW that the windows mode does not compute.
          if (name === 'ts') continue;
          const dtwsAll = found.exact;
          for (const K of [1, 3, 100]) {
            const picked = makeDtwScanner(
              data,
              { qn: Float64Array.from(qn), band: r, picks: K },
              kernel,
              new Float64Array(8),
              // K = 3 with no candidate stored (each normalised again when its turn comes).
              K === 3 ? stages | DTW_STAGES.unstored : stages,
            ).chunk!(Int32Array.from(plan), 0, plan.length, tau2);
            expect(picked.exact, `${variant} picks ${K} DTWs`).toBeLessThanOrEqual(dtwsAll);
            for (let e = 0, from = 0; e < plan.length / 3; e++) {
              const to = picked.end[e]!;
              const all = want.filter(([t]) => t >= plan[3 * e + 1]! && t < plan[3 * e + 2]!);
              const slow = greedyPicks(
                e,
                all.map(([t]) => t),
                all.map(([, d2]) => d2),
                L,
                K,
                tau2,
              );
              const got = Array.from(picked.t.subarray(from, to), (t, x) => [t, picked.d2[from + x]]);
              from = to;
              expect(got, `${variant} picks ${K} entity ${e} tau2=${tau2}`).toEqual(
                slow.map((p) => [p.start, p.distance]),
              );
            }
          }
        }
      }
    });
  }

  it('a set control word stops each kernel inside its call (fewer DTWs than the whole call)', () => {
    const L = 61;
    const r = 30;
    const qn = Float64Array.from(naiveNormalize(walk(rng(5), L, 30, 1), 'z')!);
    const plan: number[] = [];
    for (let e = 0; e < data.entities; e++) {
      const hi = data.offsets[e + 1]! - L + 1;
      if (hi > data.offsets[e]!) plan.push(e, data.offsets[e]!, hi);
    }
    const variants = kernels.flatMap((name) => (name === 'native' ? [name, 'native:scalar'] : [name]));
    for (const variant of variants) {
      const [name, path] = variant.split(':') as [DtwKernelName, string?];
      const kernel = dtwKernelByName(name)!;
      const stages = path === 'scalar' ? DTW_STAGES.all | DTW_STAGES.scalar : DTW_STAGES.all;
      // Infinity: every window is a DTW of ~3,700 cells, ~5 M in all, far past one check's worth of work.
      const run = (control?: Int32Array) => {
        const stats = new Float64Array(8);
        const scan = makeDtwScanner(data, { qn, band: r, control }, kernel, stats, stages);
        try {
          const found = scan.chunk!(Int32Array.from(plan), 0, plan.length, Infinity);
          return { kept: found.end[plan.length / 3 - 1]!, dtws: stats[DTW_STAT.dtw]! };
        } catch (err) {
          return { err, dtws: stats[DTW_STAT.dtw]! };
        }
      };
      const whole = run();
      expect(whole.kept, variant).toBeGreaterThan(1000);
      // A word that stays 0 changes nothing.
      expect(run(new Int32Array(new SharedArrayBuffer(4))), variant).toEqual(whole);
      const set = new Int32Array(new SharedArrayBuffer(4));
      set[0] = 1;
      const stopped = run(set);
      expect(stopped.err, variant).toBeInstanceOf(SearchStopped);
      // The reference kernel counts no stages and reads the word between ranges only.
      if (name !== 'ts') expect(stopped.dtws, variant).toBeLessThan(whole.dtws / 2);
    }
  });

  it.runIf(nativeExpected)(
    'the float DTW before the double one abandons no window whose distance is the threshold (L=250, band 10 %)',
    () => {
      // Each window alone, its threshold its own twin distance: the double DTW keeps it (within the
      // limit's hair of slack), so the float one, whose values err by ~1e-5 relative, must not abandon it.
      // Without the float bounds' margin (decision 140) about half of these were dropped.
      const d = market(entitiesFor(21, 420));
      const L = 250;
      const r = 25;
      const qn = naiveNormalize(Array.from(d.closes.subarray(40, 40 + L)), 'z')!;
      const native = dtwKernelByName('native')!;
      let checked = 0;
      for (const [t, d2] of twinDistances(d, qn, r)) {
        if (t % 5 !== 0) continue;
        let e = 0;
        while (d.offsets[e + 1]! <= t) e++;
        for (const stages of [DTW_STAGES.all | DTW_STAGES.nof32, DTW_STAGES.all]) {
          const scan = makeDtwScanner(
            d,
            { qn: Float64Array.from(qn), band: r },
            native,
            new Float64Array(8),
            stages,
          );
          const found = scan.chunk!(Int32Array.from([e, t, t + 1]), 0, 3, d2);
          expect([found.end[0], found.t[0], found.d2[0]], `t=${t} stages=${stages}`).toEqual([1, t, d2]);
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
    },
  );

  it.runIf(nativeExpected)('the native kernel refuses ranges outside its arrays', () => {
    const native = dtwKernelByName('native')!;
    const qn = Float64Array.from(naiveNormalize(walk(rng(3), 20, 5, 1), 'z')!);
    const scan = makeDtwScanner(data, { qn, band: 2 }, native);
    const end = data.offsets[1]!;
    expect(() => scan.chunk!(Int32Array.from([0, end - 5, end]), 0, 3, 1)).toThrow(/runs past its entity/);
    expect(() => scan.chunk!(Int32Array.from([data.entities, 0, 1]), 0, 3, 1)).toThrow(/runs past/);
  });
});

describe('native and WASM picks mode equals greedy on every window (ties, overlaps)', () => {
  /** Each kernel with the picks mode, as the search runs it and with no candidate stored. */
  const pickers: [DtwKernelName, number][] = [
    ...(nativeExpected
      ? ([
          ['native', DTW_STAGES.all],
          ['native', DTW_STAGES.all | DTW_STAGES.scalar],
          ['native', DTW_STAGES.all | DTW_STAGES.unstored],
        ] as [DtwKernelName, number][])
      : []),
    ['wasm', DTW_STAGES.all],
    ['wasm', DTW_STAGES.all | DTW_STAGES.unstored],
  ];
  /**
   * Periodic series (period P < L, so windows P apart are identical: exact ties between overlapping
   * windows), one with flat stretches between periodic ones, and a random walk.
   */
  function periodicMarket(seed: number, L: number): MarketData {
    const random = rng(seed);
    const P = Math.max(2, Math.floor(L / 3) + 1);
    const base = walk(random, P, 20, 1);
    const n = 3 * L + 40;
    const periodic = Array.from({ length: n }, (_, i) => base[i % P]!);
    const third = Math.floor(n / 3);
    const flats = [
      ...periodic.slice(0, third),
      ...Array<number>(L + 3).fill(base[0]!),
      ...periodic.slice(0, n - third - L - 3),
    ];
    return market(
      [periodic, flats, walk(random, n, 20, 1)].map((closes, i) => ({
        code: `P${i}`,
        closes,
        dates: businessDates('2001-01-01', closes.length),
      })),
    );
  }

  for (const [L, bandFrac] of [
    [8, 0],
    [8, 0.5],
    [30, 0.1],
    [40, 0.05],
    [60, 0.25],
    [120, 0.5],
  ] as const) {
    // Native (two paths) and WASM, each against the slow twin: minutes at L=120 on a busy 2-core host.
    it(`L=${L}, band ${bandFrac * 100} %, topK 1, 2 and 100`, () => {
      const data = periodicMarket(L + 5, L);
      const r = Math.floor(bandFrac * L);
      // A stretch of the periodic series (distance 0 at every period) and a fresh walk.
      for (const raw of [Array.from(data.closes.subarray(3, 3 + L)), walk(rng(L), L, 20, 1)]) {
        const qn = naiveNormalize(raw, 'z')!;
        const twin = twinDistances(data, qn, r);
        const sorted = [...twin.values()].sort((a, b) => a - b);
        // Each entity whole, then the first entity split in two ranges whose windows overlap (picks
        // mode then returns every window of that entity within tau2, as greedy needs).
        const whole: number[] = [];
        for (let e = 0; e < data.entities; e++) whole.push(e, data.offsets[e]!, data.offsets[e + 1]! - L + 1);
        const mid = whole[1]! + L;
        const split = [0, whole[1]!, mid, 0, mid, whole[2]!, ...whole.slice(3)];
        for (const plan of [whole, split]) {
          for (const q of [0, 0.05, 0.3, 1]) {
            const tau2 = q === 1 ? Infinity : sorted[Math.floor(q * (sorted.length - 1))]!;
            // As the search runs it, the native portable path, and with no candidate stored (each is
            // normalised again when its turn comes, as past the kernel's 4 MB store).
            for (const [name, stages] of pickers) {
              const windows = makeDtwScanner(
                data,
                { qn: Float64Array.from(qn), band: r },
                dtwKernelByName(name)!,
                new Float64Array(8),
                stages,
              ).chunk!(Int32Array.from(plan), 0, plan.length, tau2).exact;
              for (const K of [1, 2, 100]) {
                const found = makeDtwScanner(
                  data,
                  { qn: Float64Array.from(qn), band: r, picks: K },
                  dtwKernelByName(name)!,
                  new Float64Array(8),
                  stages,
                ).chunk!(Int32Array.from(plan), 0, plan.length, tau2);
                const what = `${name} plan ${plan === whole ? 'whole' : 'split'} tau2=${tau2} stages=${stages} K=${K}`;
                expect(found.exact, what).toBeLessThanOrEqual(windows);
                for (let e = 0; e < data.entities; e++) {
                  // The entity's outputs: the triples of entity e are consecutive in the plan.
                  const first = plan.findIndex((v, k) => k % 3 === 0 && v === e) / 3;
                  let last = first;
                  while (3 * (last + 1) < plan.length && plan[3 * (last + 1)] === e) last++;
                  const from = first > 0 ? found.end[first - 1]! : 0;
                  const ts = Array.from(found.t.subarray(from, found.end[last]!));
                  const ds = Array.from(found.d2.subarray(from, found.end[last]!));
                  const all = [...twin].filter(
                    ([t, d2]) => d2 <= tau2 && t >= data.offsets[e]! && t + L <= data.offsets[e + 1]!,
                  );
                  const slow = greedyPicks(
                    e,
                    all.map(([t]) => t),
                    all.map(([, d2]) => d2),
                    L,
                    K,
                    tau2,
                  );
                  expect(greedyPicks(e, ts, ds, L, K, tau2), `${what} entity ${e}`).toEqual(slow);
                  // One range: the kernel returned just the picks, in greedy's order.
                  if (first === last)
                    expect(
                      ts.map((t, x) => [t, ds[x]]),
                      `${what} entity ${e}`,
                    ).toEqual(slow.map((p) => [p.start, p.distance]));
                }
              }
            }
          }
        }
      }
    }, 300_000);
  }

  it('computes fewer DTWs than the windows mode where matches overlap', () => {
    const L = 30;
    const data = periodicMarket(9, L);
    const qn = Float64Array.from(naiveNormalize(Array.from(data.closes.subarray(3, 3 + L)), 'z')!);
    const plan: number[] = [];
    for (let e = 0; e < data.entities; e++) plan.push(e, data.offsets[e]!, data.offsets[e + 1]! - L + 1);
    for (const name of nativeExpected ? (['native', 'wasm'] as const) : (['wasm'] as const)) {
      const count = (picks: number) =>
        makeDtwScanner(data, { qn, band: 3, picks }, dtwKernelByName(name)!).chunk!(
          Int32Array.from(plan),
          0,
          plan.length,
          1,
        ).exact;
      // Every window P apart in the periodic series is at distance 0: each pick blocks its neighbours.
      expect(count(100), name).toBeLessThan(count(0) / 2);
    }
  });
});

describe('DTW search equals the slow twin', () => {
  afterAll(() => {
    chooseDtwKernel(process.env.ML_DTW_KERNEL);
  });

  const full = (req: Partial<NaiveRequest> & Pick<NaiveRequest, 'query'>): NaiveRequest => ({
    topK: 10,
    horizon: 5,
    metric: 'dtw',
    normalize: 'z',
    mode: 'history',
    ...req,
  });

  function expectSame(
    fast: { matches: { code: string; start: string; distance: number }[]; candidates: number },
    slow: ReturnType<typeof naiveSimilar>,
    label: string,
  ) {
    expect(
      fast.matches.map((m) => `${m.code}@${m.start}`),
      label,
    ).toEqual(slow.matches.map((m) => `${m.code}@${m.start}`));
    fast.matches.forEach((m, i) => {
      const s = slow.matches[i]!.distance;
      expect(Math.abs(m.distance - s), label).toBeLessThanOrEqual(1e-9 * Math.max(1e-300, s));
    });
    expect(fast.candidates, label).toBe(slow.candidates);
  }

  // [L, band fraction, rows per entity]: the twin's full matrix is L^2 a window, so long L on less data.
  const cases = [
    [8, 0, 200],
    [8, 0.5, 200],
    [20, 0.1, 260],
    [60, 0.1, 320],
    [60, 0.5, 240],
    [250, 0.1, 420],
    [500, 0.05, 560],
  ] as const;
  for (const [L, band, n] of cases) {
    it(`L=${L} band ${band * 100} %, topK 1 and 100, a stretch, the series' end and a posted series`, () => {
      const ents = entitiesFor(L + 5, n);
      const data = market(ents);
      const a = ents[0]!;
      const d = ents[3]!;
      const queries: NaiveRequest['query'][] = [
        { code: a.code, start: a.dates[10]!, end: a.dates[10 + L - 1]! },
        // At the series' end (mode "now" too below): the last L rows of an entity.
        { code: d.code, start: d.dates[d.dates.length - L]!, end: d.dates[d.dates.length - 1]! },
        { series: walk(rng(L), L, 7, 0.3) },
      ];
      const twins = new Map<string, ReturnType<typeof naiveSimilar>>();
      for (const name of kernels) {
        chooseDtwKernel(name);
        for (const [qi, query] of queries.entries()) {
          for (const topK of [1, 100]) {
            for (const mode of qi === 1 ? (['history', 'now'] as const) : (['history'] as const)) {
              const req = full({ query, topK, band, mode });
              const key = JSON.stringify(req);
              if (!twins.has(key)) twins.set(key, naiveSimilar(ents, req));
              expectSame(findSimilar(data, req), twins.get(key)!, `${name} ${key.slice(0, 120)}`);
            }
          }
        }
      }
    }, 600_000);
  }

  it('split over the worker pool with the shared threshold, every kernel in the workers', async () => {
    const ents = entitiesFor(99, 700);
    const data = market(ents);
    const a = ents[1]!;
    const req = full({ query: { code: a.code, start: a.dates[100]!, end: a.dates[159]! }, topK: 30 });
    const slow = naiveSimilar(ents, req);
    for (const name of kernels) {
      process.env.ML_DTW_KERNEL = name;
      const pool = new SearchPool(2, 0, 0); // split every search across both workers
      try {
        expectSame(await findSimilarWith(data, req, pool.runner(data)), slow, `pool ${name}`);
      } finally {
        await pool.close();
      }
    }
    delete process.env.ML_DTW_KERNEL;
  }, 300_000);

  it('an unknown ML_DTW_KERNEL is an error', () => {
    expect(() => chooseDtwKernel('fast')).toThrow(/ML_DTW_KERNEL must be native, wasm or ts/);
  });
});

it('the committed dtwscan.wasm is the build of dtwscan.ts', async () => {
  const wasmDir = join(import.meta.dirname, '..', 'wasm');
  const out = mkdtempSync(join(tmpdir(), 'dtwscan-'));
  try {
    const outFile = join(out, 'dtwscan.wasm');
    const { error, stderr } = await asc.main(
      [join(wasmDir, 'dtwscan.ts'), '--config', join(wasmDir, 'asconfig-dtw.json'), '--outFile', outFile],
      {},
    );
    expect(error, stderr.toString()).toBeFalsy();
    expect(readFileSync(outFile).equals(readFileSync(join(wasmDir, 'dtwscan.wasm')))).toBe(true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);
