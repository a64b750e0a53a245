/**
 * Which windows are candidates: per entity, intervals of allowed start rows. Built once per query on the
 * main thread from the filters and exclusions; the kernels only scan these intervals.
 */
import { lowerBound, type MarketArrays } from '../market/market-data.js';

export interface PlanOptions {
  L: number;
  horizon: number;
  mode: 'history' | 'now';
  entities: Iterable<number>;
  fromDay?: number;
  toDay?: number;
  /** Only windows whose forward period ends strictly before this day. */
  forwardEndBeforeDay?: number;
  /** Per entity, day ranges [from, to]; windows overlapping them are excluded. */
  exclude?: Map<number, [number, number][]>;
}

/** Triples (entity, firstStartRow, endStartRowExclusive), global rows. */
export type Plan = Int32Array;

export function buildPlan(data: MarketArrays, o: PlanOptions): Plan {
  const out: number[] = [];
  const { L, horizon } = o;
  for (const e of o.entities) {
    const a = data.offsets[e]!;
    const b = data.offsets[e + 1]!;
    let lo: number;
    let hi: number;
    if (o.mode === 'now') {
      lo = b - L;
      hi = b - L + 1;
    } else {
      lo = a;
      hi = b - L - horizon + 1;
      if (o.forwardEndBeforeDay !== undefined) {
        hi = Math.min(hi, lowerBound(data.days, a, b, o.forwardEndBeforeDay) - L - horizon + 1);
      }
    }
    lo = Math.max(lo, a);
    if (o.fromDay !== undefined) lo = Math.max(lo, lowerBound(data.days, a, b, o.fromDay));
    if (o.toDay !== undefined) hi = Math.min(hi, lowerBound(data.days, a, b, o.toDay + 1) - L + 1);
    if (hi <= lo) continue;
    const cuts = o.exclude?.get(e);
    if (!cuts) {
      // Nearly every entity: no exclusion, one interval (and no arrays built for it, on every query).
      out.push(e, lo, hi);
      continue;
    }
    let intervals: [number, number][] = [[lo, hi]];
    for (const [fromDay, toDay] of cuts) {
      // Window [t, t+L-1] overlaps rows [x0, x1] iff t <= x1 and t + L - 1 >= x0.
      const x0 = lowerBound(data.days, a, b, fromDay);
      const x1 = lowerBound(data.days, a, b, toDay + 1) - 1;
      intervals = subtract(intervals, x0 - L + 1, x1 + 1);
    }
    for (const [l, h] of intervals) if (h > l) out.push(e, l, h);
  }
  return Int32Array.from(out);
}

function subtract(intervals: [number, number][], cutLo: number, cutHi: number): [number, number][] {
  const res: [number, number][] = [];
  for (const [l, h] of intervals) {
    if (cutHi <= l || cutLo >= h) {
      res.push([l, h]);
      continue;
    }
    if (cutLo > l) res.push([l, cutLo]);
    if (cutHi < h) res.push([cutHi, h]);
  }
  return res;
}

/** Flat windows of length L starting in [lo, hi) of entity e, visited one by one (they are rare). */
export function forEachFlatWindow(
  data: MarketArrays,
  e: number,
  lo: number,
  hi: number,
  L: number,
  visit: (t: number) => void,
): void {
  for (let k = data.flatOffsets[e]!; k < data.flatOffsets[e + 1]!; k++) {
    const rs = data.flatRuns[2 * k]!;
    const re = data.flatRuns[2 * k + 1]!;
    const first = Math.max(rs, lo);
    const last = Math.min(re - L, hi - 1);
    for (let t = first; t <= last; t++) visit(t);
  }
}
