/** Writes to the provider-neutral subscriptions and payments tables. Callers wrap them in a transaction. */
import { randomUUID } from 'node:crypto';
import type { PlanId } from '@resemble/contracts';
import type { Db } from '../db/db.js';
import type { SubscriptionRow } from '../plans/entitlements.js';

export interface SubscriptionState {
  userId: string;
  plan: PlanId;
  provider: SubscriptionRow['provider'];
  status: SubscriptionRow['status'];
  customerId?: string | null;
  providerSubscriptionId?: string | null;
  periodStart: string;
  periodEnd: string;
  cancelAtPeriodEnd: boolean;
}

export function upsertSubscription(db: Db, s: SubscriptionState, nowIso: string): void {
  db.prepare(
    `INSERT INTO subscriptions (id, user_id, plan, provider, status, provider_customer_id, provider_subscription_id,
       current_period_start, current_period_end, cancel_at_period_end, created_at, updated_at)
     VALUES (@id, @userId, @plan, @provider, @status, @customerId, @providerSubscriptionId, @periodStart, @periodEnd, @cancel, @now, @now)
     ON CONFLICT(user_id) DO UPDATE SET plan = excluded.plan, provider = excluded.provider, status = excluded.status,
       provider_customer_id = COALESCE(excluded.provider_customer_id, provider_customer_id),
       provider_subscription_id = excluded.provider_subscription_id,
       current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end,
       cancel_at_period_end = excluded.cancel_at_period_end, updated_at = excluded.updated_at`,
  ).run({
    id: randomUUID(),
    userId: s.userId,
    plan: s.plan,
    provider: s.provider,
    status: s.status,
    customerId: s.customerId ?? null,
    providerSubscriptionId: s.providerSubscriptionId ?? null,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    cancel: s.cancelAtPeriodEnd ? 1 : 0,
    now: nowIso,
  });
}

export interface PaymentInput {
  userId: string | null;
  provider: SubscriptionRow['provider'];
  amountJpy: number;
  status: 'succeeded' | 'failed' | 'pending';
  period?: string | null;
  idempotencyKey?: string | null;
  providerRef?: string | null;
  failureReason?: string | null;
}

/** Returns false when a payment with this idempotency key exists already (a re-run or a duplicate event). */
export function recordPayment(db: Db, p: PaymentInput, nowIso: string): boolean {
  const r = db
    .prepare(
      `INSERT INTO payments (id, user_id, provider, amount_jpy, status, period, idempotency_key, provider_ref, failure_reason, created_at)
       VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(idempotency_key) DO NOTHING`,
    )
    .run(randomUUID(), p.userId, p.provider, p.amountJpy, p.status, p.period ?? null, p.idempotencyKey ?? null, p.providerRef ?? null, p.failureReason ?? null, nowIso);
  return r.changes === 1;
}

/** Records a provider event id; false means it was seen before and must not be applied again. */
export function claimEvent(db: Db, provider: string, eventId: string, type: string, nowIso: string): boolean {
  return db.prepare('INSERT INTO webhook_events (provider, event_id, type, received_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING').run(provider, eventId, type, nowIso).changes === 1;
}

export function addMonths(iso: string, months: number): string {
  const d = new Date(iso);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString();
}
