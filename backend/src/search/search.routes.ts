import { Router, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import {
  entitiesQuerySchema,
  entityCodeSchema,
  predictRequestSchema,
  pricesQuerySchema,
  similarRequestSchema,
} from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { requireAuth, requireFeature } from '../auth/auth.middleware.js';
import { AppError } from '../platform/errors.js';
import { parse } from '../platform/validate.js';
import { similarToCsv } from './csv.js';
import { listRecentSearches, recordRecentSearch } from './recent-searches.repo.js';
import * as search from './search.service.js';

/**
 * ml-service's JSON bytes as they came, with the headers res.send gives a JSON string (type, length)
 * except ETag: hashing every answer costs CPU, and no client can revalidate a POST answer with it.
 */
function sendJsonBytes(res: Response, body: Buffer): void {
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', body.length);
  res.end(body);
}

export function searchRoutes(ctx: AppContext): Router {
  const r = Router();
  const auth = requireAuth({ scope: 'search' });
  // Fair use for everyone, keyed by user: Pro is unlimited per day, not per second.
  const perUser: RequestHandler = rateLimit({
    windowMs: 60_000,
    limit: ctx.config.rateLimits.perUserPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => `user:${req.auth!.userId}`,
    store: ctx.rateLimitStore('user'),
    handler: (_req, _res, next) =>
      next(new AppError(429, 'rate_limited', 'too many requests; slow down for a minute')),
  });
  const rid = (req: { id: unknown }) => String(req.id);
  /** Aborts when the client goes away before its answer is sent: the search is stopped, not finished for nobody. */
  const clientGone = (res: Response): AbortSignal => {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    return ac.signal;
  };

  r.get('/entities', auth, perUser, async (req, res) => {
    const q = parse(entitiesQuerySchema, req.query, 'query');
    res.json(await ctx.ml.entities(q.q, q.limit, rid(req)));
  });

  r.get('/entities/facets', auth, perUser, async (req, res) => {
    res.json(await ctx.ml.facets(rid(req)));
  });

  r.get('/entities/:code/prices', auth, perUser, async (req, res) => {
    const code = parse(entityCodeSchema, req.params.code, 'code');
    const q = parse(pricesQuerySchema, req.query, 'query');
    res.json(await ctx.ml.prices(code, q.from, q.to, rid(req), q.timeframe));
  });

  r.post('/similar', auth, perUser, async (req, res) => {
    const body = parse(similarRequestSchema, req.body, 'body');
    const answer = await search.similar(ctx, req.auth!.userId, body, rid(req), clientGone(res));
    // The web app's recent-searches list (API token calls would only churn it).
    if (req.auth!.via === 'cookie')
      await recordRecentSearch(
        ctx.database.kysely,
        req.auth!.userId,
        body,
        new Date(ctx.now()).toISOString(),
      );
    sendJsonBytes(res, answer);
  });

  r.get('/recent-searches', auth, async (req, res) => {
    res.json({ searches: await listRecentSearches(ctx.database.kysely, req.auth!.userId) });
  });

  r.post('/predict', auth, perUser, async (req, res) => {
    const body = parse(predictRequestSchema, req.body, 'body');
    sendJsonBytes(res, await search.predict(ctx, req.auth!.userId, body, rid(req), clientGone(res)));
  });

  r.post('/export/similar.csv', auth, requireFeature(ctx, 'csvExport'), perUser, async (req, res) => {
    const body = parse(similarRequestSchema, req.body, 'body');
    const csv = similarToCsv(
      JSON.parse((await search.similar(ctx, req.auth!.userId, body, rid(req), clientGone(res))).toString()),
    );
    res.type('text/csv').attachment('resemble-similar.csv').send(csv);
  });

  return r;
}
