import { Router } from 'express';
import { similarRequestSchema } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { findSimilarWith } from '../similarity.service.js';
import { parseOr400, readyData } from './validate.js';

export function similarRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post('/v1/similar', async (req, res) => {
    const body = parseOr400(similarRequestSchema, req.body, 'similar request');
    const data = readyData(ctx.state);
    const end = ctx.metrics.searchDuration.startTimer({ metric: body.metric, mode: body.mode });
    const { exact, ...result } = await findSimilarWith(data, body, ctx.pool.runner(data));
    end();
    ctx.metrics.candidatesScanned.inc(result.candidates);
    ctx.metrics.exactComputed.inc(exact);
    res.json(result);
  });
  return r;
}
