/** Small SVG chart maths for the match thumbnails and the forecast fan (no chart library needed). */
export interface Quantiles {
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
}

export type Scale = (v: number) => number;

export function scaleLinear([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  // A flat series (halted stock) would divide by zero: draw it through the middle instead.
  if (span === 0 || !Number.isFinite(span)) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

export function extent(...series: readonly (readonly number[])[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (const v of s) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (lo === Infinity) return [0, 1];
  return [lo, hi];
}

/** Pad a domain by a fraction of its span so lines do not touch the frame. */
export function pad([lo, hi]: [number, number], frac = 0.06): [number, number] {
  const p = (hi - lo) * frac || Math.abs(hi) * frac || 1;
  return [lo - p, hi + p];
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export function linePath(xs: readonly number[], ys: readonly number[]): string {
  const n = Math.min(xs.length, ys.length);
  let d = '';
  for (let i = 0; i < n; i++) d += `${i === 0 ? 'M' : 'L'}${r2(xs[i]!)} ${r2(ys[i]!)}`;
  return d;
}

/** Closed polygon: along `upper` left→right, back along `lower` right→left. */
export function bandPath(xs: readonly number[], lower: readonly number[], upper: readonly number[]): string {
  const n = Math.min(xs.length, lower.length, upper.length);
  if (n === 0) return '';
  let d = '';
  for (let i = 0; i < n; i++) d += `${i === 0 ? 'M' : 'L'}${r2(xs[i]!)} ${r2(upper[i]!)}`;
  for (let i = n - 1; i >= 0; i--) d += `L${r2(xs[i]!)} ${r2(lower[i]!)}`;
  return `${d}Z`;
}

/** Divide by the last value so a window ends at 1.0 and its continuation (close[end+i]/close[end]) joins it. */
export function relativeToLast(series: readonly number[]): number[] {
  const last = series[series.length - 1];
  if (last === undefined || last === 0) return series.map(() => 1);
  return series.map((v) => v / last);
}

/**
 * Resample a window to `length` points (linear interpolation) so a query and a match of different
 * lengths (DTW) share an x axis.
 */
export function resample(series: readonly number[], length: number): number[] {
  if (series.length === 0 || length <= 0) return [];
  if (series.length === 1) return Array.from({ length }, () => series[0]!);
  if (length === 1) return [series[series.length - 1]!];
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const t = (i * (series.length - 1)) / (length - 1);
    const k = Math.floor(t);
    const f = t - k;
    const a = series[k]!;
    const b = series[Math.min(k + 1, series.length - 1)]!;
    out.push(a + (b - a) * f);
  }
  return out;
}

/** Fan rows (relative closes) → absolute price bands from `lastClose`, with the start point at lastClose. */
export function fanToPrices(fan: readonly Quantiles[], lastClose: number): Record<keyof Quantiles, number[]> {
  const keys: (keyof Quantiles)[] = ['p10', 'p25', 'p50', 'p75', 'p90'];
  const out = Object.fromEntries(keys.map((k) => [k, [lastClose]])) as Record<keyof Quantiles, number[]>;
  for (const row of fan) for (const k of keys) out[k].push(row[k] * lastClose);
  return out;
}
