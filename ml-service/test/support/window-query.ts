/** The query of a stored window: entity `entity`'s rows from..from+L-1 of `market`, by code and dates. */
import { dayToIso, type MarketData } from '../../src/market/market-data.js';

export function windowQuery(market: MarketData, entity: number, from: number, L: number) {
  const a = market.offsets[entity]! + from;
  return {
    code: market.codes[entity]!,
    start: dayToIso(market.days[a]!),
    end: dayToIso(market.days[a + L - 1]!),
  };
}
