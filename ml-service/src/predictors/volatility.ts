/**
 * A stock's realised volatility on a day: the sample standard deviation of its last VOL_WINDOW daily log
 * returns ending there (closes known that day, so no look-ahead). Normalised conformal bands (decision
 * 099) are in units of vol·√h, in the backtest and in the served forecast alike.
 */
export const VOL_WINDOW = 20;

/** Null when fewer than window + 1 closes end at row `end`, or a close is not positive. */
export function realisedVol(closes: ArrayLike<number>, end: number, window = VOL_WINDOW): number | null {
  if (end - window < 0 || end >= closes.length) return null;
  let sum = 0;
  let sumSq = 0;
  for (let i = end - window + 1; i <= end; i++) {
    const a = closes[i - 1]!;
    const b = closes[i]!;
    if (!(a > 0 && b > 0)) return null;
    const r = Math.log(b / a);
    sum += r;
    sumSq += r * r;
  }
  const mean = sum / window;
  return Math.sqrt(Math.max(0, (sumSq - window * mean * mean) / (window - 1)));
}

/** A stock's scale over `horizon` rows: its daily volatility × √h (a floor keeps a flat stock finite). */
export const volScale = (vol: number, horizon: number) => Math.max(vol, 1e-4) * Math.sqrt(horizon);
