import { Router, type RequestHandler, type Response } from 'express';
import { entitiesQuerySchema, entityCodeSchema, predictRequestSchema, pricesQuerySchema, similarRequestSchema } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { requireAuth, requireFeature } from '../auth/auth.middleware.js';
import { AppError } from '../platform/errors.js';
import { parse } from '../platform/validate.js';
import { windowLimit } from '../platform/rate-limit.js';
import { similarToCsv } from './csv.js';
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

export interface SearchRoutes {
  router: Router;
  /** The handler chains of the two proxy routes, for the fast dispatch in app.ts (platform/fast-path.ts). */
  chains: { similar: RequestHandler[]; predict: RequestHandler[] };
}

export function searchRoutes(ctx: AppContext): SearchRoutes {
  const r = Router();
  const auth = requireAuth({ scope: 'search' });
  // Fair use for everyone, keyed by user: Pro is unlimited per day, not per second.
  const perUser: RequestHandler = windowLimit({
    windowMs: 60_000,
    limit: ctx.config.RATE_LIMIT_USER_PER_MIN,
    key: (req) => `user:${req.auth!.userId}`,
    tooMany: () => new AppError(429, 'rate_limited', 'too many requests; slow down for a minute'),
  });
  const rid = (req: { id: unknown }) => String(req.id);

  r.get('/entities', auth, perUser, async (req, res) => {
    const q = parse(entitiesQuerySchema, req.query, 'query');
    res.json(await ctx.ml.entities(q.q, q.limit, rid(req)));
  });

  r.get('/entities/:code/prices', auth, perUser, async (req, res) => {
    const code = parse(entityCodeSchema, req.params.code, 'code');
    const q = parse(pricesQuerySchema, req.query, 'query');
    res.json(await ctx.ml.prices(code, q.from, q.to, rid(req)));
  });

  const similar: RequestHandler[] = [
    auth,
    perUser,
    async (req, res) => {
      const body = parse(similarRequestSchema, req.body, 'body');
      sendJsonBytes(res, await search.similar(ctx, req.auth!.userId, body, rid(req)));
    },
  ];
  r.post('/similar', ...similar);

  const predict: RequestHandler[] = [
    auth,
    perUser,
    async (req, res) => {
      const body = parse(predictRequestSchema, req.body, 'body');
      sendJsonBytes(res, await search.predict(ctx, req.auth!.userId, body, rid(req)));
    },
  ];
  r.post('/predict', ...predict);

  r.post('/export/similar.csv', auth, requireFeature(ctx, 'csvExport'), perUser, async (req, res) => {
    const body = parse(similarRequestSchema, req.body, 'body');
    const csv = similarToCsv(JSON.parse((await search.similar(ctx, req.auth!.userId, body, rid(req))).toString()));
    res.type('text/csv').attachment('resemble-similar.csv').send(csv);
  });

  return { router: r, chains: { similar, predict } };
}
