/**
 * The slow, obviously correct twin of the similarity search: it enumerates every window of every entity,
 * applies the rules of issue 3 literally (dates compared as strings, no plan, no bounds, no pruning),
 * computes every distance in full, sorts by (distance, code, start) and takes matches greedily.
 */
export interface NaiveEntity {
  code: string;
  market?: string;
  /** Every sector code and name the master files the entity under, and its kind. */
  sectors?: string[];
  kind?: string;
  dates: string[];
  closes: ArrayLike<number>;
}

export interface NaiveRequest {
  query: { code: string; start: string; end: string } | { series: number[] };
  topK: number;
  horizon: number;
  metric: 'zned' | 'dtw';
  normalize: 'z' | 'mean';
  mode: 'history' | 'now';
  band?: number;
  filters?: {
    codes?: string[];
    market?: string;
    sector?: string;
    kind?: 'stock' | 'etf' | 'reit';
    from?: string;
    to?: string;
  };
}

export interface NaiveMatch {
  code: string;
  start: string;
  end: string;
  distance: number;
  forwardReturn: number | null;
  forwardPath: number[];
}

export interface NaiveResult {
  matches: NaiveMatch[];
  candidates: number;
  ups: number;
}

/** Normalised copy, or null when the window is flat (or has mean 0 for "mean"). */
export function naiveNormalize(xs: number[], normalize: 'z' | 'mean'): number[] | null {
  if (xs.every((v) => v === xs[0])) return null;
  let sum = 0;
  for (const v of xs) sum += v;
  const mean = sum / xs.length;
  if (normalize === 'mean') {
    if (mean === 0) return null;
    return xs.map((v) => v / mean - 1);
  }
  let ss = 0;
  for (const v of xs) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / xs.length);
  return xs.map((v) => (v - mean) / std);
}

export function naiveEd2(a: number[], b: number[]): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += (a[i]! - b[i]!) * (a[i]! - b[i]!);
  return acc;
}

/** Full-matrix DTW with cells outside the Sakoe-Chiba band set to Infinity. */
export function naiveDtw2(a: number[], b: number[], r: number): number {
  const n = a.length;
  const D: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(Infinity));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (Math.abs(i - j) > r) continue;
      const cost = (a[i]! - b[j]!) * (a[i]! - b[j]!);
      if (i === 0 && j === 0) D[i]![j] = cost;
      else {
        const up = i > 0 ? D[i - 1]![j]! : Infinity;
        const left = j > 0 ? D[i]![j - 1]! : Infinity;
        const diag = i > 0 && j > 0 ? D[i - 1]![j - 1]! : Infinity;
        D[i]![j] = Math.min(up, left, diag) + cost;
      }
    }
  }
  return D[n - 1]![n - 1]!;
}

export function naiveSimilar(
  entities: NaiveEntity[],
  req: NaiveRequest,
  opts: { forwardEndBefore?: string; excludeRanges?: { code: string; from: string; to: string }[] } = {},
): NaiveResult {
  const byCode = [...entities].sort((x, y) => (x.code < y.code ? -1 : x.code > y.code ? 1 : 0));
  let series: number[];
  const exclusions: { code: string; from: string; to: string }[] = [...(opts.excludeRanges ?? [])];
  if ('series' in req.query) series = req.query.series;
  else {
    const q = req.query;
    const e = byCode.find((x) => x.code === q.code)!;
    const idx = e.dates.map((d, i) => [d, i] as const).filter(([d]) => d >= q.start && d <= q.end);
    series = idx.map(([, i]) => e.closes[i]!);
    exclusions.push({ code: q.code, from: e.dates[idx[0]![1]]!, to: e.dates[idx[idx.length - 1]![1]]! });
  }
  const L = series.length;
  const normalize = req.metric === 'dtw' ? 'z' : req.normalize;
  const qn = naiveNormalize(series, normalize);
  if (!qn) throw new Error('query cannot be normalised');
  const band = Math.floor((req.band ?? 0.1) * L);
  const h = req.horizon;
  const all: { code: string; t: number; d2: number; e: NaiveEntity }[] = [];
  let candidates = 0;
  let ups = 0;
  for (const e of byCode) {
    const f = req.filters;
    if (f?.codes && !f.codes.includes(e.code)) continue;
    if (f?.market && (e.market ?? 'US') !== f.market) continue;
    if (f?.sector && !(e.sectors ?? []).includes(f.sector)) continue;
    if (f?.kind && e.kind !== f.kind) continue;
    const n = e.closes.length;
    for (let t = 0; t + L <= n; t++) {
      const end = t + L - 1;
      if (req.mode === 'history' && end + h > n - 1) continue;
      if (req.mode === 'now' && end !== n - 1) continue;
      if (f?.from && e.dates[t]! < f.from) continue;
      if (f?.to && e.dates[end]! > f.to) continue;
      if (req.mode === 'history' && opts.forwardEndBefore && !(e.dates[end + h]! < opts.forwardEndBefore))
        continue;
      if (exclusions.some((x) => x.code === e.code && e.dates[t]! <= x.to && e.dates[end]! >= x.from))
        continue;
      const w = naiveNormalize(
        Array.from({ length: L }, (_, i) => e.closes[t + i]!),
        normalize,
      );
      if (!w) continue;
      candidates++;
      if (req.mode === 'history' && e.closes[end + h]! > e.closes[end]!) ups++;
      const d2 = req.metric === 'dtw' ? naiveDtw2(qn, w, band) : naiveEd2(qn, w);
      all.push({ code: e.code, t, d2, e });
    }
  }
  all.sort((x, y) => x.d2 - y.d2 || (x.code < y.code ? -1 : x.code > y.code ? 1 : 0) || x.t - y.t);
  const taken: typeof all = [];
  for (const c of all) {
    if (taken.length >= req.topK) break;
    if (taken.some((p) => p.code === c.code && c.t < p.t + L && p.t < c.t + L)) continue;
    taken.push(c);
  }
  return {
    candidates,
    ups,
    matches: taken.map(({ code, t, d2, e }) => {
      const end = t + L - 1;
      const history = req.mode === 'history';
      return {
        code,
        start: e.dates[t]!,
        end: e.dates[end]!,
        distance: Math.sqrt(d2),
        forwardReturn: history ? e.closes[end + h]! / e.closes[end]! - 1 : null,
        forwardPath: history
          ? Array.from({ length: h }, (_, i) => e.closes[end + 1 + i]! / e.closes[end]!)
          : [],
      };
    }),
  };
}
