import { Router } from 'express';
import { predictRequestSchema, type PredictResponse } from '@resemble/contracts';
import type { AppContext } from '../../context.js';
import { asOfDate } from '../../entities/entities.service.js';
import { parseOr400 } from '../../errors.js';
import { searchControl } from './search-control.js';
import { readyData } from './validate.js';

export function predictRoutes(ctx: AppContext): Router {
  const r = Router();
  // The analogue forecast is a full search: it runs on the worker pool, like /v1/similar, so the event
  // loop stays free and a long one is admitted, cancelled and timed like any other search.
  r.post('/v1/predict', async (req, res) => {
    const started = performance.now();
    const body = parseOr400(predictRequestSchema, req.body, 'predict request');
    const data = readyData(ctx.state);
    const control = searchControl(req, res);
    const p = await ctx.registry.predictAsync(
      body.model,
      body.query,
      body.horizon,
      ctx.pool.runner(data, control),
      { timeframe: body.timeframe },
    );
    const out: PredictResponse = {
      model: p.model,
      modelVersion: p.modelVersion,
      timeframe: body.timeframe,
      horizon: p.horizon,
      forecast: p.forecast,
      dataVersion: data.dataVersion,
      asOf: asOfDate(data),
      tookMs: performance.now() - started,
    };
    res.json(out);
  });
  return r;
}
