/**
 * The benches' query windows: n windows of L bars at seeded random stocks and start rows of `data`, asked
 * with topK 30 and horizon 20 unless `extra` says otherwise. The same seed gives the same windows, so two
 * benches (or two runs) with equal seeds search the same queries.
 */
import type { SimilarRequestInput } from '@resemble/contracts';
import type { MarketData } from '../src/market/market-data.js';
import { windowQuery } from '../test/support/window-query.js';
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
    // A stock with fewer than L bars (listed late: the demo has some) holds no window; draw again.
    let e: number;
    do e = Math.floor(random() * data.entities);
    while (data.offsets[e + 1]! - data.offsets[e]! < L);
    const from = Math.floor(random() * (data.offsets[e + 1]! - data.offsets[e]! - L));
    return {
      query: windowQuery(data, e, from, L),
      topK: 30,
      horizon: 20,
      ...extra,
    };
  });
}
