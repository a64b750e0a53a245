import { Router } from 'express';
import type { AppContext } from '../context.js';
import { findSimilarWith } from '../similarity.service.js';
import { readyData } from './validate.js';

export function similarRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post('/v1/similar', async (req, res) => {
    const data = readyData(ctx.state);
    const end = ctx.metrics.searchDuration.startTimer();
    // findSimilarWith validates the body (one zod pass: a failure is a 400 listing every reason).
    const { exact, ...result } = await findSimilarWith(data, req.body, ctx.pool.runner(data));
    end({ metric: result.metric, mode: result.mode });
    ctx.metrics.candidatesScanned.inc(result.candidates);
    ctx.metrics.exactComputed.inc(exact);
    res.json(result);
  });
  return r;
}
