import { notReady } from '../../errors.js';
import type { MarketData } from '../../market/market-data.js';
import type { MarketState } from '../../market/market-state.js';

export function readyData(state: MarketState): MarketData {
  if (!state.data) throw notReady();
  return state.data;
}
