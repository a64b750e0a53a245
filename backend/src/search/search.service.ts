/** Plan checks, quota and the ml-service call for one search; the response is ml-service's own. */
import { type PredictRequest, type SimilarRequest } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { AppError } from '../platform/errors.js';
import { currentPlan } from '../plans/entitlements.js';
import type { Plan } from '../plans/plans.js';

const planLimit = (message: string, details: Record<string, unknown>) =>
  new AppError(403, 'plan_limit', message, { ...details, upgradeUrl: '/pricing' });

/**
 * Predict models that run a full similarity search in ml-service (the analogue forecast is the kNN
 * forecast of /similar): each such call takes a search from the quota like /similar does.
 */
const SEARCH_BACKED_MODELS: ReadonlySet<PredictRequest['model']> = new Set(['analogue']);

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

function assertPredictAllowed(plan: Plan, req: PredictRequest): void {
  if (!plan.limits.models.includes(req.model))
    throw planLimit(`the ${plan.name} plan does not include the ${req.model} model`, {
      field: 'model',
      allowed: plan.limits.models,
    });
}

/**
 * Check the plan and take one search from the quota (one transaction: see UsageService.consume), call
 * ml-service, and give the search back when ml-service failed rather than the request.
 */
async function searchCounted<T>(
  ctx: AppContext,
  userId: string,
  assertAllowed: (plan: Plan) => void,
  call: () => Promise<T>,
): Promise<T> {
  const day = await ctx.usage.consume(userId, () => {
    const plan = currentPlan(ctx.db, ctx.plans, userId, ctx.now());
    assertAllowed(plan);
    return plan.limits.searchesPerDay;
  });
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError && (err.status >= 500 || err.status === 400 || err.status === 404))
      await ctx.usage.refund(userId, day);
    throw err;
  }
}

/** Returns ml-service's JSON bytes untouched (see MlClient.similarBytes). */
export function similar(
  ctx: AppContext,
  userId: string,
  req: SimilarRequest,
  requestId: string,
): Promise<Buffer> {
  return searchCounted(
    ctx,
    userId,
    (plan) => assertSimilarAllowed(plan, req),
    () => ctx.ml.similarBytes(req, requestId),
  );
}

/** A search a job runs on the user's behalf (a backtest sample, an export): counted like /similar. */
export function similarForJob(ctx: AppContext, userId: string, req: SimilarRequest): Promise<unknown> {
  return searchCounted(
    ctx,
    userId,
    (plan) => assertSimilarAllowed(plan, req),
    () => ctx.ml.similar(req),
  );
}

export async function predict(
  ctx: AppContext,
  userId: string,
  req: PredictRequest,
  requestId: string,
): Promise<Buffer> {
  const call = () => ctx.ml.predictBytes(req, requestId);
  if (SEARCH_BACKED_MODELS.has(req.model))
    return searchCounted(ctx, userId, (plan) => assertPredictAllowed(plan, req), call);
  assertPredictAllowed(currentPlan(ctx.db, ctx.plans, userId, ctx.now()), req);
  return call();
}
