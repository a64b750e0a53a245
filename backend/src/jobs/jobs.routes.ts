import { Router } from 'express';
import { createJobSchema } from '@resemble/contracts';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { requireAuth, requireFeature } from '../auth/auth.middleware.js';
import { AppError, notFound } from '../platform/errors.js';
import { parse } from '../platform/validate.js';
import type { JobRow } from './job-queue.js';

const idParam = z.object({ id: z.uuid('id must be a UUID') });

const view = (j: JobRow) => ({
  id: j.id,
  kind: j.kind,
  // The settings the job ran with (the backtest result page shows them).
  params: JSON.parse(j.params) as unknown,
  status: j.status,
  progress: j.progress,
  result: j.result === null ? null : JSON.parse(j.result),
  error: j.error,
  createdAt: j.created_at,
  updatedAt: j.updated_at,
});

export function jobsRoutes(ctx: AppContext): Router {
  const r = Router();
  const auth = requireAuth({ scope: 'jobs' });

  r.post('/jobs', auth, requireFeature(ctx, 'backtests'), async (req, res) => {
    const body = parse(createJobSchema, req.body, 'body');
    const id = await ctx.jobs.enqueue(req.auth!.userId, body.kind, body.params);
    res.status(202).location(`/api/v1/jobs/${id}`).json({ id });
  });

  r.get('/jobs', auth, async (req, res) => {
    res.json({ jobs: (await ctx.jobs.list(req.auth!.userId)).map(view) });
  });

  r.get('/jobs/:id', auth, async (req, res) => {
    const { id } = parse(idParam, req.params, 'path');
    const job = await ctx.jobs.get(req.auth!.userId, id);
    if (!job) throw notFound('no such job');
    res.json(view(job));
  });

  // Wherever the job runs: a queued one ends at once, a running one at its next step (job.done follows).
  r.post('/jobs/:id/cancel', auth, async (req, res) => {
    const { id } = parse(idParam, req.params, 'path');
    const outcome = await ctx.jobs.cancel(req.auth!.userId, id);
    if (outcome === 'not_found') throw notFound('no such job');
    if (outcome === 'finished') throw new AppError(409, 'job_finished', 'the job has already finished');
    res.status(202).json({ id, status: outcome });
  });

  r.get('/events', requireAuth(), (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const unsubscribe = ctx.events.subscribe(req.auth!.userId, res);
    // Comments keep proxies from closing an idle stream.
    const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });

  return r;
}
