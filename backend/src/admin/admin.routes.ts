import { Router } from 'express';
import type { AppContext } from '../context.js';
import { requireAuth } from '../auth/auth.middleware.js';
import * as admin from './admin.service.js';

export function adminRoutes(ctx: AppContext): Router {
  const r = Router();
  r.use(requireAuth({ role: 'admin' }));
  r.get('/overview', async (_req, res) => {
    res.json(await admin.overview(ctx));
  });
  r.get('/users', (_req, res) => {
    res.json({ users: admin.listUsers(ctx) });
  });
  r.get('/payments', (_req, res) => {
    res.json({ payments: admin.listPayments(ctx) });
  });
  return r;
}
