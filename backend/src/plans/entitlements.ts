/** What a user may do now, computed only from the subscriptions table (never from a client redirect). */
import type { PlanId } from '@resemble/contracts';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/db.js';
import type { Plan } from './plans.js';

export interface SubscriptionRow {
  id: string;
  user_id: string;
  plan: PlanId;
  provider: 'sandbox' | 'stripe' | 'amazonpay';
  status: 'active' | 'past_due' | 'canceled' | 'incomplete';
  provider_customer_id: string | null;
  provider_subscription_id: string | null;
  current_period_start: string;
  current_period_end: string;
  cancel_at_period_end: number;
  provider_updated_at: number;
}

// Prepared once per database: this runs on every search and compiling SQL each time showed in profiles.
const bySubscriber = new WeakMap<Db, Statement<[string], SubscriptionRow>>();

export function subscriptionOf(db: Db, userId: string): SubscriptionRow | undefined {
  let stmt = bySubscriber.get(db);
  if (!stmt) bySubscriber.set(db, (stmt = db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE user_id = ?')));
  return stmt.get(userId);
}

/** Paid access runs to the end of the paid period; past_due keeps it while the provider retries. */
export function isEntitled(sub: Pick<SubscriptionRow, 'status' | 'current_period_end'> | undefined, now: number): boolean {
  if (!sub) return false;
  return (sub.status === 'active' || sub.status === 'past_due') && Date.parse(sub.current_period_end) > now;
}

// The three columns a plan check needs, as an array: every search runs this, and SELECT * built a
// 13-key object per call.
const planColumns = new WeakMap<Db, Statement<[string], [PlanId, SubscriptionRow['status'], string]>>();

/**
 * The plan a user may use now, from the three columns that decide it: what every check that needs only
 * the plan calls (planOf also returns the whole subscription row, for the account page).
 */
export function currentPlan(db: Db, plans: Record<PlanId, Plan>, userId: string, now: number): Plan {
  let stmt = planColumns.get(db);
  if (!stmt) {
    stmt = db.prepare<[string], [PlanId, SubscriptionRow['status'], string]>('SELECT plan, status, current_period_end FROM subscriptions WHERE user_id = ?').raw(true);
    planColumns.set(db, stmt);
  }
  const row = stmt.get(userId);
  return row && isEntitled({ status: row[1], current_period_end: row[2] }, now) ? plans[row[0]] : plans.free;
}

export function planOf(db: Db, plans: Record<PlanId, Plan>, userId: string, now: number): { plan: Plan; sub: SubscriptionRow | undefined } {
  const sub = subscriptionOf(db, userId);
  return { plan: isEntitled(sub, now) ? plans[sub!.plan] : plans.free, sub };
}
