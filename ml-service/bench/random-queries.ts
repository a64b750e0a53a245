/**
 * The benches' query windows: n windows of L bars at seeded random stocks and start rows of `data`, asked
 * with topK 30 and horizon 20 unless `extra` says otherwise. The same seed gives the same windows, so two
 * benches (or two runs) with equal seeds search the same queries.
 */
import type { SimilarRequestInput } from '@resemble/contracts';
import { dayToIso, type MarketData } from '../src/market/market-data.js';
import { rng } from '../test/support/write-store.js';

export function randomQueries(
  data: MarketData,
  L: number,
  n: number,
  seed: number,
  extra: Partial<SimilarRequestInput> = {},
): SimilarRequestInput[] {
  const random = rng(seed);
  return Array.from({ length: n }, () => {
    const e = Math.floor(random() * data.entities);
    const a = data.offsets[e]!;
    const len = data.offsets[e + 1]! - a;
    const s = a + Math.floor(random() * (len - L));
    return {
      query: { code: data.codes[e]!, start: dayToIso(data.days[s]!), end: dayToIso(data.days[s + L - 1]!) },
      topK: 30,
      horizon: 20,
      ...extra,
    };
  });
}
