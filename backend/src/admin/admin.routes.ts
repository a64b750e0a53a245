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
  r.get('/users', async (_req, res) => {
    res.json({ users: await admin.listUsers(ctx) });
  });
  r.get('/payments', async (_req, res) => {
    res.json({ payments: await admin.listPayments(ctx) });
  });
  return r;
}
