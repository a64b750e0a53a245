/** Plan checks, quota and the ml-service call for one search; the response is ml-service's own. */
import { type PredictRequest, type SimilarRequest } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { AppError } from '../platform/errors.js';
import { currentPlan } from '../plans/entitlements.js';
import type { Plan } from '../plans/plans.js';

const planLimit = (message: string, details: Record<string, unknown>) =>
  new AppError(403, 'plan_limit', message, { ...details, upgradeUrl: '/pricing' });

export function assertSimilarAllowed(plan: Plan, req: SimilarRequest): void {
  if (req.topK > plan.limits.maxTopK)
    throw planLimit(`the ${plan.name} plan allows topK up to ${plan.limits.maxTopK}`, {
      field: 'topK',
      max: plan.limits.maxTopK,
    });
  if (!plan.limits.metrics.includes(req.metric))
    throw planLimit(`the ${plan.name} plan does not include the ${req.metric} metric`, {
      field: 'metric',
      allowed: plan.limits.metrics,
    });
}

/**
 * Returns ml-service's JSON bytes untouched (see MlClient.similarBytes). The search must answer within
 * its plan's time budget, counted from now (a wait in the user's heavy lane included); `signal` aborts
 * when the client leaves, which stops the search in ml-service too.
 */
export async function similar(
  ctx: AppContext,
  userId: string,
  req: SimilarRequest,
  requestId: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const started = Date.now();
  let budgetMs = 0;
  // Plan read, plan checks and the quota take in one transaction (see UsageService.consume).
  const day = ctx.usage.consume(userId, () => {
    const plan = currentPlan(ctx.db, ctx.plans, userId, ctx.now());
    assertSimilarAllowed(plan, req);
    budgetMs = plan.limits.searchBudgetMs;
    return plan.limits.searchesPerDay;
  });
  try {
    // DTW is the long kind: one user's run of them waits in that user's own queue (UserLanes).
    const release =
      req.metric === 'dtw' ? await ctx.heavyLanes.acquire(userId, started + budgetMs, signal) : null;
    try {
      return await ctx.ml.similarBytes(req, requestId, {
        budgetMs: Math.max(1, started + budgetMs - Date.now()),
        signal,
      });
    } finally {
      release?.();
    }
  } catch (err) {
    if (
      err instanceof AppError &&
      (err.status >= 500 ||
        err.status === 400 ||
        err.status === 404 ||
        err.status === 429 ||
        err.status === 499)
    )
      ctx.usage.refund(userId, day);
    throw err;
  }
}

export async function predict(
  ctx: AppContext,
  userId: string,
  req: PredictRequest,
  requestId: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const plan = currentPlan(ctx.db, ctx.plans, userId, ctx.now());
  if (!plan.limits.models.includes(req.model))
    throw planLimit(`the ${plan.name} plan does not include the ${req.model} model`, {
      field: 'model',
      allowed: plan.limits.models,
    });
  return ctx.ml.predictBytes(req, requestId, { budgetMs: plan.limits.searchBudgetMs, signal });
}
