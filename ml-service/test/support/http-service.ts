/** ml-service's real app on a free loopback port over a store directory, for the HTTP tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../../src/http/app.js';
import { MarketState, loadInWorker } from '../../src/market/market-state.js';
import { createMetrics } from '../../src/metrics.js';
import { createPredictorRegistry, type PredictorRegistry } from '../../src/predictors/registry.js';
import { ResultCache } from '../../src/search/result-cache.js';
import { SearchPool, type PoolOptions } from '../../src/search/search-pool.js';
import { businessDays, randomWalk, rng, type FixtureEntity } from './write-store.js';

export function market(seed: number, count: number, n: number): FixtureEntity[] {
  const random = rng(seed);
  return Array.from({ length: count }, (_, i) => ({
    code: `S${String(i).padStart(3, '0')}`,
    name: `Stock ${i} Holdings`,
    market: i % 2 ? 'JP' : 'US',
    dates: businessDays('2015-01-05', n),
    closes: randomWalk(random, n),
  }));
}

export interface Running {
  url: string;
  server: Server;
  state: MarketState;
  pool: SearchPool;
  registry: PredictorRegistry;
  modelsDir: string;
  close: () => Promise<void>;
}

export async function start(
  dataDir: string,
  opts: {
    load?: boolean;
    token?: string;
    workers?: number;
    timeoutMs?: number;
    resultCacheBytes?: number;
    /** Ordinary searches of this cost (searchCost) are split (default 0: every one, to cover shards). */
    splitAbove?: number;
    pool?: PoolOptions;
    /** Files put into the models directory before the registry reads it (name → JSON). */
    models?: Record<string, unknown>;
  } = {},
): Promise<Running> {
  const log = pino({ level: 'silent' });
  const metrics = createMetrics();
  const state = new MarketState(dataDir, log, metrics, loadInWorker);
  if (opts.load !== false) await state.reload('test');
  // Every search is split across the workers here (splitAbove 0), so the shard path stays covered.
  const pool = new SearchPool(opts.workers ?? 2, opts.timeoutMs ?? 0, opts.splitAbove ?? 0, {
    onCancel: (reason) => metrics.searchCancelled.inc({ reason }),
    onAbandoned: (chunks) => metrics.abandonedChunks.inc(chunks),
    ...opts.pool,
  });
  const modelsDir = mkdtempSync(join(tmpdir(), 'ml-models-'));
  for (const [name, json] of Object.entries(opts.models ?? {}))
    writeFileSync(join(modelsDir, name), JSON.stringify(json));
  const registry = createPredictorRegistry({
    getData: () => state.data!,
    modelsDir,
    watch: false,
  });
  const resultCache = opts.resultCacheBytes ? new ResultCache(opts.resultCacheBytes) : null;
  const app = createApp({
    config: { ML_TOKEN: opts.token },
    log,
    metrics,
    state,
    pool,
    registry,
    resultCache,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    state,
    pool,
    registry,
    modelsDir,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      registry.close();
      await pool.close();
      await state.close();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
