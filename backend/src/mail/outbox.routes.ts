/**
 * GET /dev/outbox: the mail the sandbox kept (newest first). Mounted only when MAIL_SANDBOX is on, which
 * config refuses in production, so everywhere else the path is an ordinary 404.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { parse } from '../platform/validate.js';
import { listOutboxMail } from './outbox.repo.js';

const query = z.object({ limit: z.coerce.number().int().min(0).max(200).default(50) }).strict();

export function outboxRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get('/dev/outbox', async (req, res) => {
    const { limit } = parse(query, req.query, 'query');
    res.json({ sandbox: true, mails: await listOutboxMail(ctx.database.kysely, limit) });
  });
  return r;
}
