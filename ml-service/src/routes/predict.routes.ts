import { Router } from 'express';
import { predictRequestSchema, type PredictResponse } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { asOfDate } from '../entities.service.js';
import { parseOr400 } from '../errors.js';
import { readyData } from './validate.js';

export function predictRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post('/v1/predict', (req, res) => {
    const started = performance.now();
    const body = parseOr400(predictRequestSchema, req.body, 'predict request');
    const data = readyData(ctx.state);
    const p = ctx.registry.predict(body.model, body.query, body.horizon, { timeframe: body.timeframe });
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
