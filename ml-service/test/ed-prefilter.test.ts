/**
 * The WASM pre-filter may only prune: for a fixed threshold, the windows a scanner keeps must be exactly
 * those whose directly computed distance is within it, whatever the price level, scale or flatness.
 * Checked against a full scan of every window, for the WASM path and the TypeScript path alike.
 */
import { describe, expect, it } from 'vitest';
import { makeEdScanner } from '../src/kernels/ed-kernel.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prefilterFor, SLOT } from '../src/kernels/ed-prefilter.js';
import { paramsHeader } from '../scripts/params-header.js';
import { nativeZscan } from '../src/kernels/ed-native.js';
import { LOCKS, SLOTS } from '../src/market/market-memory.js';
import { SearchPool } from '../src/search/search-pool.js';
import { findSimilarWith } from '../src/search/similarity.service.js';
import { dayToIso } from '../src/market/market-data.js';
import { businessDates, marketFromEntities, randomWalkEntities } from '../src/predictors/synthetic-market.js';
import { windowDistance2, normalizeWindow } from '../src/kernels/window-distance.js';
import type { MarketData } from '../src/market/market-data.js';
import { rng } from './support/write-store.js';
import { greedyPicks, type Pick } from '../src/search/top-picks.js';

function walk(random: () => number, n: number, level: number, step: number, trend = 0): number[] {
  let v = level;
  return Array.from({ length: n }, () => {
    v += (random() + random() + random() - 1.5) * step + trend;
    return v;
  });
}

/** Entities chosen to stress the rounding-error bounds: huge levels with tiny moves, tiny scales, trends. */
function hardMarket(seed: number): MarketData {
  const random = rng(seed);
  const series: [string, number[]][] = [
    ['A100', walk(random, 900, 100, 1)],
    ['B1E6', walk(random, 900, 1e6, 0.01)], // level / move = 1e8: centring cancels most digits
    ['C1EM3', walk(random, 700, 1e-3, 1e-5)],
    ['D0TRND', walk(random, 800, 10, 0.05, 0.5)], // a strong trend: the window mean drifts far from the centre
    ['E0FLAT', [...walk(random, 300, 50, 1), ...Array(200).fill(42.5), ...walk(random, 300, 42.5, 0.5)]],
    ['F0SHRT', walk(random, 30, 20, 1)],
    ['H1E8', walk(random, 600, 1e8, 0.001)], // level / move = 1e11: the direct computation's own error shows
    ['G0COPY', []], // filled below with a copy of A100's stretch (exact ties)
  ];
  series[7]![1] = series[0]![1].slice(100, 400);
  return marketFromEntities(
    series.map(([code, closes]) => ({ code, closes, dates: businessDates('2001-01-01', closes.length) })),
  );
}

/**
 * 'native-chunk': the native kernel's scanChunk over all entities at once (the search's native path).
 * 'no-wasm': the market in plain arrays (as above 4 GiB), where no kernel runs and every window is
 * computed directly (the TypeScript cascade this replaced was retired, decision 124).
 */
type Kernel = 'native' | 'native-chunk' | 'wasm' | 'no-wasm';
/** The native AVX2 kernel is built on every x86-64 machine with AVX2 (this one and CI's): require it there. */
const nativeExpected = process.arch === 'x64' && /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
const kernels: Kernel[] = nativeExpected
  ? ['native', 'native-chunk', 'wasm', 'no-wasm']
  : ['wasm', 'no-wasm'];

/** The same market in plain arrays, with no WebAssembly memory for the kernels to read. */
function withoutWasm(data: MarketData): MarketData {
  return {
    ...data,
    closes: Float64Array.from(data.closes),
    sum1: Float64Array.from(data.sum1),
    sum2: Float64Array.from(data.sum2),
    wasm: null,
  };
}

interface Window {
  t: number;
  d2: number;
}

function allDistances(data: MarketData, qn: Float64Array): Window[] {
  const L = qn.length;
  const scratch = new Float64Array(L);
  const out: Window[] = [];
  for (let e = 0; e < data.entities; e++) {
    for (let t = data.offsets[e]!; t + L <= data.offsets[e + 1]!; t++) {
      const d2 = windowDistance2(data.closes, t, qn, 'z', Infinity, scratch);
      if (d2 !== Infinity) out.push({ t, d2 });
    }
  }
  return out.sort((a, b) => a.d2 - b.d2 || a.t - b.t);
}

function kept(
  data: MarketData,
  qn: Float64Array,
  tau2: number,
  kernel: Kernel,
): { windows: Window[]; exact: number } {
  const scan =
    kernel === 'no-wasm'
      ? makeEdScanner(withoutWasm(data), { qn, normalize: 'z' })
      : makeEdScanner(data, { qn, normalize: 'z', kernel: kernel === 'native-chunk' ? 'native' : kernel });
  const windows: Window[] = [];
  let exact = 0;
  if (kernel === 'native-chunk') {
    // Every entity long enough as one plan triple, all in one call.
    const plan: number[] = [];
    for (let e = 0; e < data.entities; e++) {
      const hi = data.offsets[e + 1]! - qn.length + 1;
      if (hi > data.offsets[e]!) plan.push(e, data.offsets[e]!, hi);
    }
    const found = scan.chunk!(Int32Array.from(plan), 0, plan.length, tau2);
    const total = found.end[plan.length / 3 - 1]!;
    for (let x = 0; x < total; x++) windows.push({ t: found.t[x]!, d2: found.d2[x]! });
    return { windows: windows.sort((a, b) => a.d2 - b.d2 || a.t - b.t), exact: found.exact };
  }
  for (let e = 0; e < data.entities; e++) {
    const hi = data.offsets[e + 1]! - qn.length + 1;
    if (hi <= data.offsets[e]!) continue;
    exact += scan(e, data.offsets[e]!, hi, tau2, (t, d2) => windows.push({ t, d2 }));
  }
  return { windows: windows.sort((a, b) => a.d2 - b.d2 || a.t - b.t), exact };
}

describe('the native and WASM kernels of the zned search, and the direct scan without them', () => {
  const data = hardMarket(7);

  it('has one parameter block layout: wasm/params.ts, which zscan.ts imports and zscan_params.h is made from', () => {
    const src = readFileSync(join(import.meta.dirname, '..', 'wasm', 'zscan.ts'), 'utf8');
    // No slot of its own: every P* it reads comes from params.ts.
    expect(src).not.toMatch(/^const P\w+: i32 = \d+;/m);
    expect(src).toMatch(/} from '\.\/params';/);
    const c = readFileSync(join(import.meta.dirname, '..', 'native', 'zscan.c'), 'utf8');
    expect(c).not.toMatch(/^ {2}[PC]\w+ = \d+,$/m);
    expect(c).toContain('#include "zscan_params.h"');
    // The committed header is the generation of params.ts today.
    const header = readFileSync(join(import.meta.dirname, '..', 'native', 'zscan_params.h'), 'utf8');
    expect(header).toBe(paramsHeader());
    const enumerated = Object.fromEntries(
      [...header.matchAll(/^ {2}([PC]\w+) = (\d+),$/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    expect(enumerated).toEqual({ ...SLOT });
    // Slots do not collide: every f64 slot below the query (byte 1024) and the chunk constants above it.
    const f64 = Object.entries(SLOT).filter(([k]) => !k.endsWith('_BYTE') && k !== 'C_PAA_STRIDE');
    expect(new Set(f64.map(([, v]) => v)).size).toBe(f64.length);
  });

  it('runs on a market held in a shared WebAssembly memory', () => {
    expect(data.wasm).not.toBeNull();
    expect(prefilterFor(data.wasm)).not.toBeNull();
  });

  it.runIf(nativeExpected)('has the native AVX2 kernel built (npm install runs node-gyp)', () => {
    expect(nativeZscan()?.avx2).toBe(true);
  });

  it.runIf(nativeExpected)('the native kernel refuses addresses outside the memory', () => {
    const { scan } = nativeZscan()!;
    const memory = new Uint8Array(data.wasm!.memory.buffer);
    const end = memory.length;
    expect(() => scan(memory, end - 8, 0, 0, 0, 0, 10, 8, 4, 65536)).toThrow(/outside the memory/);
    expect(() => scan(memory, 65536, end - 64, 0, 0, 0, 10, 8, 4, 65536 + 8192)).toThrow(
      /outside the memory/,
    );
    expect(() => scan(new Uint8Array(64) as Uint8Array, 0, 0, 0, 0, 0, 1, 8, 4, 0)).toThrow(
      /outside the memory/,
    );
    expect(() => scan(new Float64Array(8) as unknown as Uint8Array, 0, 0, 0, 0, 0, 1, 8, 4, 0)).toThrow(
      /Uint8Array/,
    );
  });

  it.runIf(nativeExpected)('the native chunk scan refuses plans and outputs that do not fit', () => {
    const { scanChunk } = nativeZscan()!;
    const memory = new Uint8Array(data.wasm!.memory.buffer);
    const pf = prefilterFor(data.wasm)!;
    const at = [data.sum1.byteOffset, data.sum2.byteOffset, data.closes.byteOffset] as const;
    const n = data.offsets[1]! - data.offsets[0]!;
    const run = (plan: number[], outs = 4096, ends = 8, kHi = plan.length) =>
      scanChunk(
        memory,
        pf.paramsAt,
        Int32Array.from(plan),
        0,
        kHi,
        data.offsets,
        data.spread,
        data.center,
        1,
        ...at,
        60,
        16,
        pf.outAt,
        new Int32Array(outs),
        new Float64Array(outs),
        new Int32Array(ends),
        0,
      );
    expect(() => run([data.entities, 0, 10])).toThrow(/entity is out of range/);
    expect(() => run([0, 0, n + 10])).toThrow(/runs past its entity/);
    expect(() => run([0, 0, n - 58])).toThrow(/runs past its entity/); // its last window ends past it
    expect(() => run([0, 5, 2])).toThrow(/runs past its entity/); // an inverted range
    expect(run([0, 0, n - 59])).toBeGreaterThanOrEqual(0); // its last window ends on the entity's last row
    expect(() => run([0, 0, 100], 10)).toThrow(/outside the memory/); // outT / outD too short
    expect(() => run([0, 0, 100, 1], 4096, 8)).toThrow(/out of range/); // not whole triples
    expect(() => run([0, 0, 100], 4096, 8, 6)).toThrow(/out of range/); // past the plan
    expect(() => run([0, 0, 100, 0, 0, 100], 4096, 1)).toThrow(/out of range/); // outEnd too short
    expect(run([0, 0, 0])).toBe(0);
  });

  it.runIf(nativeExpected)(
    "the native batch distances (the seed sample's) are windowDistance2's, bit for bit, flat windows Infinity",
    () => {
      const pick = rng(7);
      for (const L of [8, 17, 60, 250]) {
        const qn = new Float64Array(L);
        normalizeWindow(data.closes, data.offsets[0]! + 40, L, 'z', qn);
        const scan = makeEdScanner(data, { qn, normalize: 'z', kernel: 'native' });
        // Every entity's windows, the flat stretch of E0FLAT and the copies of G0COPY among them.
        const rows: number[] = [];
        for (let e = 0; e < data.entities; e++)
          for (let t = data.offsets[e]!; t + L <= data.offsets[e + 1]!; t++) if (pick() < 0.3) rows.push(t);
        const out = new Float64Array(rows.length);
        scan.distances!(Int32Array.from(rows), rows.length, out);
        const scratch = new Float64Array(L);
        const expected = rows.map((t) => windowDistance2(data.closes, t, qn, 'z', Infinity, scratch));
        // E0FLAT's flat stretch is 200 rows: it holds flat windows up to L = 200.
        if (L <= 200)
          expect(expected.filter((d) => d === Infinity).length, `L=${L}: flat windows`).toBeGreaterThan(0);
        expect(Array.from(out), `L=${L}`).toEqual(expected);
      }
    },
  );

  it.runIf(nativeExpected)('the native batch distances refuse windows outside the memory', () => {
    const { distances } = nativeZscan()!;
    const memory = new Uint8Array(data.wasm!.memory.buffer);
    const pf = prefilterFor(data.wasm)!;
    const closes = data.closes.byteOffset;
    const out = new Float64Array(4);
    const rows = (...r: number[]) => Int32Array.from(r);
    expect(() => distances(memory, pf.paramsAt, closes, rows(-1), 1, 8, out)).toThrow(/outside the memory/);
    expect(() => distances(memory, pf.paramsAt, closes, rows(memory.length / 8), 1, 8, out)).toThrow(
      /outside the memory/,
    );
    expect(() => distances(memory, pf.paramsAt, closes, rows(0, 1), 3, 8, out)).toThrow(/out of range/);
    expect(() => distances(memory, pf.paramsAt, closes, rows(0), 1, 501, out)).toThrow(/out of range/);
    expect(() => distances(memory, memory.length - 8, closes, rows(0), 1, 8, out)).toThrow(/out of range/);
    distances(memory, pf.paramsAt, closes, rows(0), 1, 8, out);
  });

  const random = rng(99);
  const cases: { label: string; entity: number; L: number }[] = [];
  for (const L of [8, 9, 17, 60, 61, 120, 250]) {
    for (const entity of [0, 1, 2, 3, 4, 7]) cases.push({ label: `${data.codes[entity]} L=${L}`, entity, L });
  }

  it.each(cases)('keeps exactly the windows within the threshold: $label', ({ entity, L }) => {
    const a = data.offsets[entity]!;
    const n = data.offsets[entity + 1]! - a;
    let qn = new Float64Array(L);
    // A window of the entity itself (it matches itself at distance 0), or random values if it is flat.
    const start = a + Math.floor(random() * (n - L));
    if (!normalizeWindow(data.closes, start, L, 'z', qn)) {
      qn = new Float64Array(L);
      normalizeWindow(
        Array.from({ length: L }, () => random()),
        0,
        L,
        'z',
        qn,
      );
    }
    const all = allDistances(data, qn);
    for (const rank of [1, 30, 400]) {
      const tau2 = all[Math.min(rank, all.length) - 1]!.d2;
      const expected = all.filter((w) => w.d2 <= tau2);
      for (const kernel of kernels) {
        const got = kept(data, qn, tau2, kernel);
        expect(got.windows, `rank ${rank} kernel ${kernel}`).toEqual(expected);
      }
    }
  });

  it.runIf(nativeExpected).each([8, 17, 60, 250])(
    'the native chunk scan in picks mode gives greedyPicks of the windows within the threshold: L=%i',
    (L) => {
      const pick = rng(1000 + L);
      for (let round = 0; round < 3; round++) {
        const qn = new Float64Array(L);
        const e0 = [0, 3, 6][round]!;
        normalizeWindow(data.closes, data.offsets[e0]! + Math.floor(pick() * 200), L, 'z', qn);
        const all = allDistances(data, qn);
        // Every entity as one triple, and some split in two at a random row (as the query's own stock is
        // around its exclusion), so an entity's picks span its triples.
        const plan: number[] = [];
        for (let e = 0; e < data.entities; e++) {
          const lo = data.offsets[e]!;
          const hi = data.offsets[e + 1]! - L + 1;
          if (hi <= lo) continue;
          const cut = lo + Math.floor(pick() * (hi - lo));
          if (pick() < 0.5 && cut > lo) plan.push(e, lo, cut, e, cut + Math.floor(pick() * 3), hi);
          else plan.push(e, lo, hi);
        }
        const ok = (t: number) => {
          for (let k = 0; k < plan.length; k += 3) if (t >= plan[k + 1]! && t < plan[k + 2]!) return true;
          return false;
        };
        const triples = Int32Array.from(plan);
        for (const rank of [1, 30, 400, all.length]) {
          const tau2 = all[Math.min(rank, all.length) - 1]!.d2;
          for (const K of [1, 3, 30, 100]) {
            const scan = makeEdScanner(data, { qn, normalize: 'z', kernel: 'native' });
            const found = scan.chunk!(triples, 0, triples.length, tau2, K);
            const got: Pick[] = [];
            for (let x = 0; x < found.end[triples.length / 3 - 1]!; x++) {
              const t = found.t[x]!;
              const e = data.offsets.findLastIndex((o) => o <= t);
              got.push({ entity: e, start: t, distance: found.d2[x]! });
            }
            const expected: Pick[] = [];
            for (let e = 0; e < data.entities; e++) {
              const mine = all.filter(
                (w) => w.t >= data.offsets[e]! && w.t < data.offsets[e + 1]! && ok(w.t),
              );
              expected.push(
                ...greedyPicks(
                  e,
                  mine.map((w) => w.t),
                  mine.map((w) => w.d2),
                  L,
                  K,
                  tau2,
                ),
              );
            }
            expect(got, `round ${round} rank ${rank} K ${K}`).toEqual(expected);
          }
        }
      }
    },
  );

  it('prunes most windows of ordinary random walks', () => {
    const walks = marketFromEntities(randomWalkEntities(5, 20, 1500));
    const L = 60;
    const qn = new Float64Array(L);
    normalizeWindow(walks.closes, walks.offsets[3]! + 500, L, 'z', qn);
    const all = allDistances(walks, qn);
    const tau2 = all[30]!.d2;
    for (const kernel of kernels.filter((k) => k !== 'no-wasm')) {
      const got = kept(walks, qn, tau2, kernel);
      expect(got.windows).toEqual(all.filter((w) => w.d2 <= tau2));
      // Every window would otherwise be computed directly; the bounds must leave well under a fifth.
      expect(got.exact).toBeLessThan(all.length / 5);
    }
  });

  it('gives the WASM slots of stopped search workers back', async () => {
    const market = marketFromEntities(randomWalkEntities(9, 6, 400));
    const claimed = () =>
      Array.from(new Int32Array(market.wasm!.memory.buffer, LOCKS, SLOTS)).filter((v) => v !== 0).length;
    const pool = new SearchPool(2, 0, 0);
    const a = market.offsets[1]!;
    const query = {
      code: market.codes[1]!,
      start: dayToIso(market.days[a + 10]!),
      end: dayToIso(market.days[a + 69]!),
    };
    await findSimilarWith(market, { query, topK: 5 }, pool.runner(market));
    expect(claimed()).toBe(2); // one per worker
    await pool.close();
    await new Promise((ok) => setTimeout(ok, 50));
    expect(claimed()).toBe(0);
  });
});
