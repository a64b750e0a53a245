import type { Logger } from 'pino';
import type { KernelChoice } from './kernels/kernels.js';
import type { Config } from './config.js';
import type { MarketState } from './market/market-state.js';
import type { Metrics } from './metrics.js';
import type { PredictorRegistry } from './predictors/registry.js';
import type { ResultCache } from './search/result-cache.js';
import type { SearchPool } from './search/search-pool.js';

/** Everything a request handler may use; built by server.ts (or a test) and passed to createApp. */
export interface AppContext {
  config: Pick<Config, 'ML_TOKEN'>;
  log: Logger;
  metrics: Metrics;
  state: MarketState;
  pool: SearchPool;
  registry: PredictorRegistry;
  /** Answers of repeated similar requests; absent (or null) = every request is searched. */
  resultCache?: ResultCache | null;
  /** The search kernels chosen at start (shown in /health); absent in tests that do not care. */
  kernel?: KernelChoice;
}
