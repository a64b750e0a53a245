/** Plan checks, quota and the ml-service call for one search; the response is ml-service's own. */
import { type PredictRequest, type SimilarRequest } from '@resemble/contracts';
import { AppError } from '../platform/errors.js';
import { currentPlan, type PlanLookup } from '../plans/entitlements.js';
import type { Plan } from '../plans/plans.js';
import { countTokenSearch } from '../tokens/token-usage.repo.js';
import type { QuotaStore } from '../shared/shared-state.js';
import type { MlClient } from './ml.client.js';
import type { UserLanes } from './user-lanes.js';

/** What a counted search uses: the plan, the daily quota, ml-service and the per-user long-search lanes. */
export interface SearchDeps extends PlanLookup {
  usage: Pick<QuotaStore, 'consume' | 'refund'>;
  ml: Pick<MlClient, 'similarBytes' | 'similar' | 'predictBytes'>;
  /** Per-user limit of long (DTW) searches running at once. */
  heavyLanes: Pick<UserLanes, 'acquire'>;
}

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
 * Check the plan and take one search from the quota (see UsageService.consume), call
 * ml-service with the plan's time budget (counted from now), and give the search back when ml-service
 * failed, the user's long-search queue was full, or the client left, rather than the request being bad.
 */
async function searchCounted<T>(
  deps: Omit<SearchDeps, 'ml' | 'heavyLanes'>,
  userId: string,
  assertAllowed: (plan: Plan) => void,
  call: (budgetMs: number) => Promise<T>,
  tokenId?: string,
): Promise<T> {
  let budgetMs = 0;
  const day = await deps.usage.consume(userId, async () => {
    const plan = await currentPlan(deps.db, deps.plans, userId, deps.now());
    assertAllowed(plan);
    budgetMs = plan.limits.searchBudgetMs;
    return plan.limits.searchesPerDay;
  });
  try {
    const answer = await call(budgetMs);
    // An API token's share of the day, for its owner's token list and its own GET /quota.
    if (tokenId) await countTokenSearch(deps.db, tokenId, day);
    return answer;
  } catch (err) {
    if (
      err instanceof AppError &&
      (err.status >= 500 ||
        err.status === 400 ||
        err.status === 404 ||
        err.status === 429 ||
        err.status === 499)
    )
      await deps.usage.refund(userId, day);
    throw err;
  }
}

/**
 * Returns ml-service's JSON bytes untouched (see MlClient.similarBytes). The search must answer within
 * its plan's time budget, a wait in the user's long-search queue included; `signal` aborts when the
 * client leaves, which stops the search in ml-service too.
 */
export function similar(
  deps: SearchDeps,
  userId: string,
  req: SimilarRequest,
  requestId: string,
  signal?: AbortSignal,
  tokenId?: string,
): Promise<Buffer> {
  return searchCounted(
    deps,
    userId,
    (plan) => assertSimilarAllowed(plan, req),
    async (budgetMs) => {
      const due = Date.now() + budgetMs;
      // DTW is the long kind: one user's run of them waits in that user's own queue (UserLanes).
      const release = req.metric === 'dtw' ? await deps.heavyLanes.acquire(userId, due, signal) : null;
      try {
        return await deps.ml.similarBytes(req, requestId, {
          budgetMs: Math.max(1, due - Date.now()),
          signal,
        });
      } finally {
        release?.();
      }
    },
    tokenId,
  );
}

/** A search a job runs on the user's behalf (a backtest sample, an export): counted like /similar. */
export function similarForJob(
  deps: Omit<SearchDeps, 'heavyLanes'>,
  userId: string,
  req: SimilarRequest,
): Promise<unknown> {
  return searchCounted(
    deps,
    userId,
    (plan) => assertSimilarAllowed(plan, req),
    () => deps.ml.similar(req),
  );
}

export async function predict(
  deps: SearchDeps,
  userId: string,
  req: PredictRequest,
  requestId: string,
  signal?: AbortSignal,
  tokenId?: string,
): Promise<Buffer> {
  const call = (budgetMs: number) => deps.ml.predictBytes(req, requestId, { budgetMs, signal });
  if (SEARCH_BACKED_MODELS.has(req.model))
    return searchCounted(deps, userId, (plan) => assertPredictAllowed(plan, req), call, tokenId);
  const plan = await currentPlan(deps.db, deps.plans, userId, deps.now());
  assertPredictAllowed(plan, req);
  return call(plan.limits.searchBudgetMs);
}
