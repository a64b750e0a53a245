/** Prometheus metrics of one service instance (its own registry, so tests can build several apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'ml_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    searchDuration: new Histogram({
      name: 'ml_search_duration_seconds',
      help: 'Similarity search time by metric',
      labelNames: ['metric', 'mode'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    candidatesScanned: new Counter({
      name: 'ml_search_candidates_total',
      help: 'Candidate windows considered by similarity searches',
      registers: [registry],
    }),
    exactComputed: new Counter({
      name: 'ml_search_exact_distances_total',
      help: 'Windows whose distance was computed directly (not pruned by a lower bound)',
      registers: [registry],
    }),
    searchCancelled: new Counter({
      name: 'ml_search_cancelled_total',
      help: 'Searches stopped before they finished, by why (client_gone, deadline, time_limit)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    abandonedChunks: new Counter({
      name: 'ml_search_abandoned_chunks_total',
      help: 'Chunks of entities that cancelled searches left unscanned (work their workers did not do)',
      registers: [registry],
    }),
    dataPoints: new Gauge({ name: 'ml_data_points', help: 'Closes loaded in memory', registers: [registry] }),
    dataEntities: new Gauge({
      name: 'ml_data_entities',
      help: 'Entities loaded in memory',
      registers: [registry],
    }),
    resultCache: new Counter({
      name: 'ml_similar_result_cache_total',
      help: 'Similar requests by whether the result cache answered them',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'ml_data_reloads_total',
      help: 'Data reload attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
