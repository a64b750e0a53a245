import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { ANALOGUE_VERSION } from '../../predictors/analogue.predictor.js';
import { answerSimilar, checkSimilar } from '../../search/similarity.service.js';
import { searchControl } from './search-control.js';
import { readyData } from './validate.js';

export function similarRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post('/v1/similar', async (req, res) => {
    const data = readyData(ctx.state);
    const control = searchControl(req, res);
    const end = ctx.metrics.searchDuration.startTimer();
    // answerSimilar validates the body (a failure is a 400 listing every reason).
    const { json, search } = await answerSimilar(
      data,
      req.body,
      ctx.pool.runner(data, control),
      ctx.resultCache,
      {
        find: (length, horizon) => ctx.registry.calibratorFor('analogue', ANALOGUE_VERSION, length, horizon),
        generation: () => ctx.registry.generation(),
      },
    );
    if (search) {
      end({ metric: search.metric, mode: search.mode });
      ctx.metrics.candidatesScanned.inc(search.candidates);
      ctx.metrics.exactComputed.inc(search.exact);
    }
    ctx.metrics.resultCache.inc({ outcome: !ctx.resultCache ? 'off' : search ? 'miss' : 'hit' });
    res
      .set('x-cache', search ? 'miss' : 'hit')
      .type('json')
      .send(json);
  });
  // Validation only (saved patterns): 204 when a search with this body would run, else its 4xx.
  r.post('/v1/similar/check', (req, res) => {
    checkSimilar(readyData(ctx.state), req.body);
    res.status(204).end();
  });
  return r;
}
