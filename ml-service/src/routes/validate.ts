import { notReady } from '../errors.js';
import type { MarketData } from '../market-data.js';
import type { MarketState } from '../market-state.js';

export function readyData(state: MarketState): MarketData {
  if (!state.data) throw notReady();
  return state.data;
}
