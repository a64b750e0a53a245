/**
 * Platt scaling (Platt 1999) of a probability forecast: P(up) = σ(a + b·logit(p)), fitted by maximum
 * likelihood with Newton's method (two parameters, so the 2×2 system is solved directly). The forecast is
 * clipped to [0.01, 0.99] first so a raw 0 or 1 from a handful of analogues has a finite logit. A small
 * ridge on b keeps the fit finite when the forecast separates the outcomes perfectly.
 */
export interface PlattFit {
  a: number;
  b: number;
}

const CLIP = 0.01;
const RIDGE = 1e-6;

export const plattFeature = (p: number) => {
  const c = Math.min(1 - CLIP, Math.max(CLIP, p));
  return Math.log(c / (1 - c));
};

const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

export function applyPlatt(fit: PlattFit, p: number): number {
  return sigmoid(fit.a + fit.b * plattFeature(p));
}

/** Penalised negative log-likelihood that fitPlatt minimises (exported for its test). */
export function plattLoss(fit: PlattFit, probs: readonly number[], ups: readonly (0 | 1)[]): number {
  let loss = (RIDGE / 2) * fit.b * fit.b;
  for (let i = 0; i < probs.length; i++) {
    const t = fit.a + fit.b * plattFeature(probs[i]!);
    // log(1 + e^t) − y·t, written to stay finite for large |t|.
    loss += Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t))) - ups[i]! * t;
  }
  return loss;
}

export function fitPlatt(probs: readonly number[], ups: readonly (0 | 1)[]): PlattFit {
  if (probs.length !== ups.length) throw new RangeError('fitPlatt: forecasts and outcomes differ in length');
  if (probs.length === 0) throw new RangeError('fitPlatt needs at least one forecast');
  const xs = probs.map(plattFeature);
  const rate = ups.reduce<number>((s, y) => s + y, 0) / ups.length;
  const r = Math.min(1 - 1e-6, Math.max(1e-6, rate));
  let a = Math.log(r / (1 - r));
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = RIDGE * b;
    let haa = 1e-9;
    let hab = 0;
    let hbb = RIDGE;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const p = sigmoid(a + b * x);
      const e = p - ups[i]!;
      const w = p * (1 - p);
      ga += e;
      gb += e * x;
      haa += w;
      hab += w * x;
      hbb += w * x * x;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}
