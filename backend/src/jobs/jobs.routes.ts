import { jobKindSchema } from '@resemble/contracts';
import type { PlanLookup } from '../plans/entitlements.js';
import type { EventBus } from '../shared/shared-state.js';
import { requireFeature } from '../auth/auth.middleware.js';
import { AppError, notFound } from '../platform/errors.js';
import type { Impls } from '../platform/contract-router.js';
import type { JobQueue, JobRow } from './job-queue.js';

const view = (j: JobRow) => ({
  id: j.id,
  kind: jobKindSchema.parse(j.kind),
  // The settings the job ran with (the backtest result page shows them).
  params: JSON.parse(j.params) as unknown,
  status: j.status,
  progress: j.progress,
  result: j.result === null ? null : JSON.parse(j.result),
  error: j.error,
  createdAt: j.created_at,
  updatedAt: j.updated_at,
});

export function jobsRoutes(
  deps: PlanLookup & { jobs: JobQueue; events: Pick<EventBus, 'subscribe'> },
): Impls<'createJob' | 'listJobs' | 'job' | 'cancelJob' | 'events'> {
  const { jobs, events } = deps;
  return {
    createJob: {
      use: [requireFeature(deps, 'backtests')],
      handler: async ({ body, req }) => {
        const id = await jobs.enqueue(req.auth!.userId, body.kind, body.params);
        return { status: 202, body: { id }, headers: { location: `/api/v1/jobs/${id}` } };
      },
    },

    listJobs: {
      handler: async ({ req }) => ({
        status: 200,
        body: { jobs: (await jobs.list(req.auth!.userId)).map(view) },
      }),
    },

    job: {
      handler: async ({ params, req }) => {
        const job = await jobs.get(req.auth!.userId, params.id);
        if (!job) throw notFound('no such job');
        return { status: 200, body: view(job) };
      },
    },

    // Wherever the job runs: a queued one ends at once, a running one at its next step (job.done follows).
    cancelJob: {
      handler: async ({ params, req }) => {
        const outcome = await jobs.cancel(req.auth!.userId, params.id);
        if (outcome === 'not_found') throw notFound('no such job');
        if (outcome === 'finished') throw new AppError(409, 'job_finished', 'the job has already finished');
        return { status: 202, body: { id: params.id, status: outcome } };
      },
    },

    events: {
      handler: ({ req, res }) => {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(': connected\n\n');
        const unsubscribe = events.subscribe(req.auth!.userId, res);
        // Comments keep proxies from closing an idle stream.
        const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
        req.on('close', () => {
          clearInterval(ping);
          unsubscribe();
        });
        return { status: 200, streamed: true };
      },
    },
  };
}
