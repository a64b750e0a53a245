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
  r.get('/patterns', auth, (req, res) => {
    res.json({ patterns: patterns.listPatterns(ctx, req.auth!.userId) });
  });
  r.post('/patterns', auth, pro, (req, res) => {
    const body = parse(createPatternSchema, req.body, 'body');
    res.status(201).json(patterns.createPattern(ctx, req.auth!.userId, body));
  });
  r.patch('/patterns/:id', auth, (req, res) => {
    const { id } = parse(idParam, req.params, 'path');
    res.json(patterns.updatePattern(ctx, req.auth!.userId, id, parse(updatePatternSchema, req.body, 'body')));
  });
  r.delete('/patterns/:id', auth, (req, res) => {
    patterns.deletePattern(ctx, req.auth!.userId, parse(idParam, req.params, 'path').id);
    res.status(204).end();
  });
  r.get('/notifications', requireAuth(), (req, res) => {
    res.json(patterns.listNotifications(ctx, req.auth!.userId));
  });
  r.post('/notifications/:id/read', requireAuth(), (req, res) => {
    patterns.markRead(ctx, req.auth!.userId, parse(idParam, req.params, 'path').id);
    res.json({ ok: true });
  });
  return r;
}
