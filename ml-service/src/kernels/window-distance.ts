/**
 * The definitions every search path agrees on, computed directly (two-pass mean and population std), so
 * fast kernels can report exactly what a brute-force scan would.
 */
export type Normalization = 'z' | 'mean';

/**
 * Normalises values[from .. from+length) into out; returns false when the window cannot be normalised:
 * it is flat (all values equal: zero standard deviation, e.g. a halted stock) or, for "mean", its mean is 0.
 * Flatness is decided by equality, not by a computed std, which rounding can leave slightly above 0.
 */
export function normalizeWindow(
  values: ArrayLike<number>,
  from: number,
  length: number,
  normalize: Normalization,
  out: Float64Array,
): boolean {
  const first = values[from]!;
  let flat = true;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const v = values[from + i]!;
    if (v !== first) flat = false;
    sum += v;
  }
  if (flat) return false;
  const mean = sum / length;
  if (normalize === 'mean') {
    if (mean === 0) return false;
    for (let i = 0; i < length; i++) out[i] = values[from + i]! / mean - 1;
    return true;
  }
  let ss = 0;
  for (let i = 0; i < length; i++) {
    const d = values[from + i]! - mean;
    ss += d * d;
  }
  const std = Math.sqrt(ss / length);
  for (let i = 0; i < length; i++) out[i] = (values[from + i]! - mean) / std;
  return true;
}

/**
 * Squared Euclidean distance between a normalised query and the normalised window at `from`, abandoning
 * as soon as the partial sum exceeds `limit2` (a sum of squares only grows). Returns Infinity for windows
 * that are not candidates (flat) or abandoned ones; otherwise the exact value a full scan computes.
 */
export function windowDistance2(
  values: ArrayLike<number>,
  from: number,
  qn: Float64Array,
  normalize: Normalization,
  limit2: number,
  scratch: Float64Array,
): number {
  const length = qn.length;
  if (!normalizeWindow(values, from, length, normalize, scratch)) return Infinity;
  let acc = 0;
  for (let i = 0; i < length; i++) {
    const d = qn[i]! - scratch[i]!;
    acc += d * d;
    if (acc > limit2) return Infinity;
  }
  return acc;
}
