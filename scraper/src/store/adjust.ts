import type Database from 'better-sqlite3';
import type { RowInput } from './validate.js';

/**
 * A corporate action. `factor` multiplies every price strictly before `exDate`:
 * a 2-for-1 split has factor 0.5; a dividend D against the previous close C has factor 1 - D / C.
 * Split factors also rescale volume (divided by the factor) so share counts stay comparable.
 */
export interface Adjustment {
  exDate: string;
  kind: 'split' | 'dividend';
  factor: number;
}

export function checkAdjustment(a: Adjustment): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(a.exDate))
    return `adjustment exDate must be YYYY-MM-DD (got "${a.exDate}")`;
  if (a.kind !== 'split' && a.kind !== 'dividend') return `adjustment kind must be split or dividend`;
  if (!Number.isFinite(a.factor) || a.factor <= 0) return `adjustment factor must be > 0 (got ${a.factor})`;
  return null;
}

/**
 * Adjusted history from raw rows (sorted by date ascending) and adjustments: each row is scaled by the
 * product of the factors of every adjustment whose ex-date is after the row's date.
 */
export function computeAdjusted(raw: readonly RowInput[], adjustments: readonly Adjustment[]): RowInput[] {
  if (adjustments.length === 0) return raw.map((r) => ({ ...r }));
  const adj = [...adjustments].sort((a, b) => (a.exDate < b.exDate ? 1 : -1));
  const out: RowInput[] = new Array(raw.length);
  let priceFactor = 1;
  let volumeFactor = 1;
  let k = 0;
  for (let i = raw.length - 1; i >= 0; i--) {
    const r = raw[i];
    while (k < adj.length && adj[k].exDate > r.date) {
      priceFactor *= adj[k].factor;
      if (adj[k].kind === 'split') volumeFactor *= adj[k].factor;
      k++;
    }
    out[i] = {
      date: r.date,
      open: r.open * priceFactor,
      high: r.high * priceFactor,
      low: r.low * priceFactor,
      close: r.close * priceFactor,
      volume: Math.round(r.volume / volumeFactor),
    };
  }
  return out;
}

/** Recomputes the `prices` table of an open entity database from `raw_prices` and `adjustments`. */
export function rebuildAdjusted(db: Database.Database): void {
  const adjustments = db
    .prepare('SELECT ex_date AS exDate, kind, factor FROM adjustments ORDER BY ex_date')
    .all() as Adjustment[];
  const run = db.transaction(() => {
    db.exec('DELETE FROM prices');
    if (adjustments.length === 0) {
      // Common case (imports of already-adjusted data): let SQLite copy the rows without a JS round trip.
      // Exactly `INSERT INTO x SELECT * FROM y` (no column list, no ORDER BY) between tables of the same
      // schema lets SQLite copy the records as they are (its transfer optimisation) instead of decoding
      // and re-encoding every row; the order is the primary key's either way.
      db.exec('INSERT INTO prices SELECT * FROM raw_prices');
      return;
    }
    const raw = db
      .prepare('SELECT date, open, high, low, close, volume FROM raw_prices ORDER BY date')
      .all() as RowInput[];
    const insert = db.prepare(
      'INSERT INTO prices (date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const r of computeAdjusted(raw, adjustments))
      insert.run(r.date, r.open, r.high, r.low, r.close, r.volume);
  });
  run();
}
