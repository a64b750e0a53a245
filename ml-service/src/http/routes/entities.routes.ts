import { Router } from 'express';
import { z } from 'zod';
import { entityCodeSchema, isoDateSchema, timeframeSchema } from '@resemble/contracts';
import type { AppContext } from '../../context.js';
import { entityFacets, readPrices, searchEntities } from '../../entities/entities.service.js';
import { parseOr400 } from '../../errors.js';
import { readyData } from './validate.js';

const listQuery = z.object({
  q: z.string().max(64).default(''),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
const pricesQuery = z
  .object({
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
    timeframe: timeframeSchema.default('D'),
  })
  .refine((v) => !v.from || !v.to || v.from <= v.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export function entitiesRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get('/v1/entities', (req, res) => {
    const q = parseOr400(listQuery, req.query, 'entities query');
    res.json(searchEntities(readyData(ctx.state), q.q, q.limit));
  });
  r.get('/v1/entities/facets', (_req, res) => {
    res.json(entityFacets(readyData(ctx.state)));
  });
  r.get('/v1/entities/:code/prices', (req, res) => {
    const code = parseOr400(entityCodeSchema, req.params.code, 'code');
    const q = parseOr400(pricesQuery, req.query, 'prices query');
    res.json(readPrices(readyData(ctx.state), code, q.from, q.to, q.timeframe));
  });
  return r;
}
