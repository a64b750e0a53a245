import { Router } from 'express';
import type { MlHealth } from '@resemble/contracts';
import type { AppContext } from '../../context.js';
import { asOfDate } from '../../entities/entities.service.js';

export function systemRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    const { state } = ctx;
    const body: MlHealth = {
      status: state.status,
      dataVersion: state.data?.dataVersion ?? null,
      entities: state.data?.entities ?? 0,
      points: state.data?.points ?? 0,
      loadedAt: state.data?.loadedAt ?? null,
      asOf: state.data ? asOfDate(state.data) : null,
      lastReloadError: state.lastReloadError,
      models: ctx.registry
        .list()
        .filter((m) => m.available && m.version !== null)
        .map((m) => ({ id: m.id, version: m.version! })),
      kernel: ctx.kernel ? { zned: ctx.kernel.zned, dtw: ctx.kernel.dtw } : undefined,
      skippedEntities: state.data?.skipped ?? [],
      search: ctx.pool.stats(),
    };
    res.status(state.status === 'ready' ? 200 : 503).json(body);
  });
  r.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return r;
}
