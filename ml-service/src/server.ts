/** Starts ml-service: listens at once (health says "loading"), loads the store, then polls for new data. */
import type { AddressInfo } from 'node:net';
import { createApp } from './http/app.js';
import { ConfigError, loadConfig } from './config.js';
import { chooseKernels, KernelUnavailableError, type KernelChoice } from './kernels/kernels.js';
import { createLogger } from './logger.js';
import { addonError } from './kernels/native-addon.js';
import { nativeStoreReader } from './market/store-native.js';
import { MarketState, loadInWorkers } from './market/market-state.js';
import { createMetrics } from './metrics.js';
import { createPredictorRegistry } from './predictors/registry.js';
import { ResultCache } from './search/result-cache.js';
import { SearchPool } from './search/search-pool.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
const log = createLogger(config.LOG_LEVEL);
// An exception nothing caught leaves the process in a state nobody reasoned about: log it and exit, and
// the supervisor (run.sh, the container runtime) starts a clean one, as backend does.
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception; exiting');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log.fatal({ err: reason }, 'unhandled rejection; exiting');
  process.exit(1);
});
// The search kernels, chosen once (the workers read the same ML_KERNEL and make the same choice).
let kernel: KernelChoice;
try {
  kernel = chooseKernels(config.ML_KERNEL);
} catch (err) {
  if (err instanceof KernelUnavailableError) {
    log.fatal({ err }, err.message);
    process.exit(2);
  }
  throw err;
}
for (const warning of kernel.warnings) log.warn({ kernel: { zned: kernel.zned, dtw: kernel.dtw } }, warning);
// The native store reader too: without it loads go through better-sqlite3 alone (correct, slower).
const storeReadError = nativeStoreReader() ? null : addonError('storeread');
if (storeReadError)
  log.warn(
    { reason: storeReadError },
    'the native store reader did not load; reading entity files through better-sqlite3',
  );
log.info({ zned: kernel.zned, dtw: kernel.dtw, preference: config.ML_KERNEL }, 'search kernels chosen');
const metrics = createMetrics();
const cacheDir = config.ML_CACHE_DIR === 'off' ? null : config.ML_CACHE_DIR;
const state = new MarketState(config.DATA_DIR, log, metrics, loadInWorkers(2, cacheDir, log));
const pool = new SearchPool(config.ML_SEARCH_WORKERS, config.ML_SEARCH_TIMEOUT_MS, undefined, {
  heavyCost: config.ML_HEAVY_COST,
  heavyThreads: config.ML_HEAVY_THREADS,
  heavyWorkers: config.ML_HEAVY_WORKERS,
  onCancel: (reason) => metrics.searchCancelled.inc({ reason }),
  onAbandoned: (chunks) => metrics.abandonedChunks.inc(chunks),
});
const registry = createPredictorRegistry({
  getData: () => {
    if (!state.data) throw new Error('market data is not loaded');
    return state.data;
  },
  modelsDir: config.MODELS_DIR,
  watch: true,
  logger: log.child({ module: 'predictors' }),
});
const resultCache =
  config.ML_RESULT_CACHE_MB > 0 ? new ResultCache(config.ML_RESULT_CACHE_MB * 2 ** 20) : null;
const app = createApp({ config, log, metrics, state, pool, registry, resultCache, kernel });
const server = app.listen(config.ML_PORT, config.ML_HOST, () => {
  const { address, port } = server.address() as AddressInfo;
  log.info({ address, port, dataDir: config.DATA_DIR, workers: pool.size }, 'ml-service listening');
});

void state.reload('start').then(() => state.startPolling(config.ML_RELOAD_INTERVAL_MS));
process.on('SIGHUP', () => {
  registry.reload();
  void state.reload('SIGHUP');
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server.close();
  server.closeAllConnections();
  registry.close();
  void Promise.all([pool.close(), state.close()]).finally(() => process.exit(0));
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
