/**
 * Prefix counts of up-moves for one horizon h: how many rows r of an entity (up to a point) have
 * close[r + h] > close[r]. The base rate needs this count over every candidate window of a query, which
 * would otherwise be a pass over all 20 M rows per query. Indexed like the prefix sums (row + entity, with
 * a leading zero per entity); shared with the search workers; the last few horizons are cached per data.
 */
import type { MarketArrays } from '../market/market-data.js';

const KEEP = 2;
const cache = new WeakMap<MarketArrays, Map<number, Int32Array>>();

export function upCounts(data: MarketArrays, h: number): Int32Array {
  let byH = cache.get(data);
  if (!byH) {
    byH = new Map();
    cache.set(data, byH);
  }
  const hit = byH.get(h);
  if (hit) {
    byH.delete(h);
    byH.set(h, hit); // most recently used last
    return hit;
  }
  const { offsets, closes } = data;
  const entities = offsets.length - 1;
  const out = new Int32Array(new SharedArrayBuffer((offsets[entities]! + entities + 1) * 4));
  for (let e = 0; e < entities; e++) {
    const a = offsets[e]!;
    const b = offsets[e + 1]!;
    let acc = 0;
    out[a + e] = 0;
    for (let r = a; r < b; r++) {
      if (r + h < b && closes[r + h]! > closes[r]!) acc++;
      out[r + e + 1] = acc;
    }
  }
  byH.set(h, out);
  while (byH.size > KEEP) byH.delete(byH.keys().next().value!);
  return out;
}
