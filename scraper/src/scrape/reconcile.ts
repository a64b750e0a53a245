import type { Adjustment, RowInput } from '../store/index.js';

/**
 * Deciding what a fetch means for the stored history. Sources publish in two ways after a split or
 * dividend: (a) they revise their past prices by a constant factor (most price sites), or (b) they keep
 * the past and the series simply jumps on the ex-date. Both become an `adjustments` row; `raw_prices`
 * keeps what was published at the time, and the store rebuilds `prices` = raw x later factors.
 */

/** Split ratios a jump or a revision is matched against (n-for-1 and 1-for-n). */
const SPLIT_RATIOS = [2, 3, 4, 5, 10, 1.5, 20];
/** How close (relative) a price ratio must be to a split ratio to count as one. */
const SPLIT_TOLERANCE = 0.03;
/** How far apart per-row revision factors may be and still be one corporate action. */
const FACTOR_AGREEMENT = 0.005;
const SAME_TOLERANCE = 1e-9;

export interface Plan {
  /** Rows to upsert into raw_prices: new dates and corrected ones. */
  rows: RowInput[];
  adjustments: Adjustment[];
  /** Dates whose stored raw values the source changed without a common factor (plain corrections). */
  corrected: string[];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

function sameRow(a: RowInput, b: RowInput): boolean {
  return (
    rel(a.open, b.open) <= SAME_TOLERANCE &&
    rel(a.high, b.high) <= SAME_TOLERANCE &&
    rel(a.low, b.low) <= SAME_TOLERANCE &&
    rel(a.close, b.close) <= SAME_TOLERANCE &&
    a.volume === b.volume
  );
}

/** `factor` snapped to 1/n or n when it is a split ratio, else null. */
export function splitFactor(factor: number): number | null {
  for (const n of SPLIT_RATIOS) {
    if (rel(factor, 1 / n) <= SPLIT_TOLERANCE) return 1 / n;
    if (rel(factor, n) <= SPLIT_TOLERANCE) return n;
  }
  return null;
}

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A constant revision factor of the mismatching overlap rows, if they are all the earliest overlap
 * rows (the revision stops at the ex-date) and every price of every row moved by the same factor.
 */
function revisionFactor(
  overlap: { stored: RowInput; fetched: RowInput }[],
  mismatched: number,
): number | null {
  if (mismatched === 0 || overlap.slice(0, mismatched).some((o) => sameRow(o.stored, o.fetched))) return null;
  const factors: number[] = [];
  for (const { stored, fetched } of overlap.slice(0, mismatched)) {
    for (const k of ['open', 'high', 'low', 'close'] as const) factors.push(fetched[k] / stored[k]);
  }
  const f = median(factors);
  if (factors.some((x) => rel(x, f) > FACTOR_AGREEMENT)) return null;
  return f;
}

/**
 * Jumps between consecutive rows that look like an unannounced split in an unrevised series: both the
 * opening gap and the close-to-close move match a split ratio. Only pairs whose later row is new are
 * checked, so a history already reconciled is never re-read as a split.
 */
export function detectSplitJumps(
  prev: RowInput | undefined,
  rows: readonly RowInput[],
  isNew: (date: string) => boolean,
): Adjustment[] {
  const found: Adjustment[] = [];
  let before = prev;
  for (const r of rows) {
    if (before && isNew(r.date)) {
      const gap = splitFactor(r.open / before.close);
      const move = splitFactor(r.close / before.close);
      if (gap !== null && gap === move) found.push({ exDate: r.date, kind: 'split', factor: gap });
    }
    before = r;
  }
  return found;
}

/**
 * What to write, given the stored raw rows from `from` on (`stored`), the last stored raw row before
 * `from` (`prev`), and the valid fetched rows (sorted by date).
 */
export function planUpdate(
  stored: readonly RowInput[],
  prev: RowInput | undefined,
  fetched: readonly RowInput[],
): Plan {
  const byDate = new Map(stored.map((r) => [r.date, r]));
  const overlap = fetched
    .filter((r) => byDate.has(r.date))
    .map((r) => ({ stored: byDate.get(r.date)!, fetched: r }));
  const mismatchIdx = overlap.map((o, i) => (sameRow(o.stored, o.fetched) ? -1 : i)).filter((i) => i >= 0);
  const isNew = (date: string) => !byDate.has(date);

  if (mismatchIdx.length > 0) {
    const lastMismatch = mismatchIdx[mismatchIdx.length - 1];
    const factor =
      lastMismatch + 1 === mismatchIdx.length ? revisionFactor(overlap, mismatchIdx.length) : null;
    const snapped = factor === null ? null : splitFactor(factor);
    // A small uniform cut of the past is a dividend adjustment; other uniform changes are not actions.
    const dividend = factor !== null && snapped === null && factor >= 0.8 && factor < 1;
    if (factor !== null && (snapped !== null || dividend)) {
      // The source now publishes the past adjusted: keep our raw past, record the action from the
      // first row it did not revise.
      const revisedUntil = overlap[lastMismatch].fetched.date;
      const after = fetched.filter((r) => r.date > revisedUntil);
      const adjustment: Adjustment = {
        exDate: after[0]?.date ?? nextDay(revisedUntil),
        kind: snapped !== null ? 'split' : 'dividend',
        factor: snapped ?? factor,
      };
      return { rows: after, adjustments: [adjustment], corrected: [] };
    }
    // Scattered or inconsistent changes are corrections: the source's new values replace ours.
    const corrected = mismatchIdx.map((i) => overlap[i].fetched.date);
    const changed = new Set(corrected);
    return {
      rows: fetched.filter((r) => isNew(r.date) || changed.has(r.date)),
      adjustments: detectSplitJumps(prev, fetched, isNew),
      corrected,
    };
  }
  // Rows the store already holds unchanged are left out, so a day with nothing new writes nothing.
  return {
    rows: fetched.filter((r) => isNew(r.date)),
    adjustments: detectSplitJumps(prev, fetched, isNew),
    corrected: [],
  };
}
