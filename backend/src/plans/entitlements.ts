/** What a user may do now, computed only from the subscriptions table (never from a client redirect). */
import type { PlanId } from '@resemble/contracts';
import type { Executor } from '../db/schema.js';
import {
  planColumnsOfUser,
  subscriptionOfUser,
  type SubscriptionRow,
} from '../billing/subscriptions.repo.js';
import type { Plan } from './plans.js';

export type { SubscriptionRow } from '../billing/subscriptions.repo.js';

/** What a plan check needs: the table that decides, the plans, and the clock. */
export interface PlanLookup {
  db: Executor;
  plans: Record<PlanId, Plan>;
  now: () => number;
}

export function subscriptionOf(db: Executor, userId: string): Promise<SubscriptionRow | undefined> {
  return subscriptionOfUser(db, userId);
}

/** Paid access runs to the end of the paid period; past_due keeps it while the provider retries. */
export function isEntitled(
  sub: Pick<SubscriptionRow, 'status' | 'current_period_end'> | undefined,
  now: number,
): boolean {
  if (!sub) return false;
  return (sub.status === 'active' || sub.status === 'past_due') && Date.parse(sub.current_period_end) > now;
}

/**
 * The plan a user may use now, from the three columns that decide it: what every check that needs only
 * the plan calls (planOf also returns the whole subscription row, for the account page).
 */
export async function currentPlan(
  db: Executor,
  plans: Record<PlanId, Plan>,
  userId: string,
  now: number,
): Promise<Plan> {
  const row = await planColumnsOfUser(db, userId);
  return row && isEntitled(row, now) ? plans[row.plan] : plans.free;
}

export async function planOf(
  db: Executor,
  plans: Record<PlanId, Plan>,
  userId: string,
  now: number,
): Promise<{ plan: Plan; sub: SubscriptionRow | undefined }> {
  const sub = await subscriptionOf(db, userId);
  return { plan: isEntitled(sub, now) ? plans[sub!.plan] : plans.free, sub };
}
