/**
 * Isotonic (non-decreasing) regression by pool-adjacent-violators (Ayer et al. 1955; Barlow et al. 1972),
 * used to calibrate pUp: Zadrozny & Elkan (2002) fit it on held-out (forecast, outcome) pairs.
 */

export interface IsotonicFit {
  /** Strictly increasing knots (forecast values). */
  x: number[];
  /** Non-decreasing fitted values at the knots. */
  y: number[];
}

/**
 * Fits a non-decreasing step function minimising the weighted squared error. Equal x values are pooled first
 * so the fit is a function of x. Returns the fitted value for each distinct x.
 */
export function fitIsotonic(
  xs: readonly number[],
  ys: readonly number[],
  weights?: readonly number[],
): IsotonicFit {
  if (xs.length !== ys.length)
    throw new RangeError(`fitIsotonic: ${xs.length} x values but ${ys.length} y values`);
  if (weights && weights.length !== xs.length)
    throw new RangeError('fitIsotonic: weights length differs from x');
  if (xs.length === 0) throw new RangeError('fitIsotonic needs at least one point');
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i]))
      throw new RangeError(`fitIsotonic: point ${i} is not finite`);
    if (weights && !(weights[i]! > 0)) throw new RangeError(`fitIsotonic: weight ${i} must be positive`);
  }
  const order = Array.from(xs.keys()).sort((a, b) => xs[a]! - xs[b]!);

  // Blocks of the PAV stack: value = weighted mean, weight = summed weight, xs covered by the block.
  const blockX: number[][] = [];
  const blockValue: number[] = [];
  const blockWeight: number[] = [];
  let i = 0;
  while (i < order.length) {
    const x = xs[order[i]!]!;
    let w = 0;
    let s = 0;
    while (i < order.length && xs[order[i]!] === x) {
      const wi = weights ? weights[order[i]!]! : 1;
      w += wi;
      s += wi * ys[order[i]!]!;
      i++;
    }
    blockX.push([x]);
    blockValue.push(s / w);
    blockWeight.push(w);
    while (blockValue.length > 1 && blockValue[blockValue.length - 2]! > blockValue[blockValue.length - 1]!) {
      const v2 = blockValue.pop()!;
      const w2 = blockWeight.pop()!;
      const x2 = blockX.pop()!;
      const last = blockValue.length - 1;
      const w1 = blockWeight[last]!;
      blockValue[last] = (blockValue[last]! * w1 + v2 * w2) / (w1 + w2);
      blockWeight[last] = w1 + w2;
      blockX[last]!.push(...x2);
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  blockX.forEach((bx, b) => {
    for (const v of bx) {
      x.push(v);
      y.push(blockValue[b]!);
    }
  });
  return { x, y };
}

/** Linear interpolation between knots, constant beyond the end knots. */
export function applyIsotonic(fit: IsotonicFit, value: number): number {
  const { x, y } = fit;
  if (x.length === 0) throw new RangeError('applyIsotonic: empty fit');
  if (value <= x[0]!) return y[0]!;
  const last = x.length - 1;
  if (value >= x[last]!) return y[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= value) lo = mid;
    else hi = mid;
  }
  const t = (value - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}
