import { Router } from 'express';
import { createPatternSchema, updatePatternSchema } from '@resemble/contracts';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { requireAuth, requireFeature } from '../auth/auth.middleware.js';
import { parse } from '../platform/validate.js';
import * as patterns from './patterns.service.js';

const idParam = z.object({ id: z.uuid('id must be a UUID') });

export function patternsRoutes(ctx: AppContext): Router {
  const r = Router();
  const auth = requireAuth({ scope: 'patterns' });
  const pro = requireFeature(ctx, 'patterns');
  r.get('/patterns', auth, async (req, res) => {
    res.json({ patterns: await patterns.listPatterns(ctx, req.auth!.userId) });
  });
  r.post('/patterns', auth, pro, async (req, res) => {
    const body = parse(createPatternSchema, req.body, 'body');
    res.status(201).json(await patterns.createPattern(ctx, req.auth!.userId, body));
  });
  r.patch('/patterns/:id', auth, async (req, res) => {
    const { id } = parse(idParam, req.params, 'path');
    const changes = parse(updatePatternSchema, req.body, 'body');
    res.json(await patterns.updatePattern(ctx, req.auth!.userId, id, changes));
  });
  r.delete('/patterns/:id', auth, async (req, res) => {
    await patterns.deletePattern(ctx, req.auth!.userId, parse(idParam, req.params, 'path').id);
    res.status(204).end();
  });
  r.get('/notifications', requireAuth(), async (req, res) => {
    res.json(await patterns.listNotifications(ctx, req.auth!.userId));
  });
  r.post('/notifications/:id/read', requireAuth(), async (req, res) => {
    await patterns.markRead(ctx, req.auth!.userId, parse(idParam, req.params, 'path').id);
    res.json({ ok: true });
  });
  return r;
}
