/**
 * The embedded test-mode provider: no money moves, but every state a real provider produces (paid,
 * declined, renewed, renewal declined, cancelled) is reachable from the UI, through the same tables.
 */
import { randomUUID } from 'node:crypto';
import type { PlanId } from '@resemble/contracts';
import type { Db } from '../db/db.js';
import { AppError } from '../platform/errors.js';
import type { Plan } from '../plans/plans.js';
import { subscriptionOf, type SubscriptionRow } from '../plans/entitlements.js';
import type { CheckoutUser, PaymentProvider } from './billing.provider.js';
import { addMonths, recordPayment, upsertSubscription } from './subscriptions.repo.js';

export class SandboxProvider implements PaymentProvider {
  readonly id = 'sandbox' as const;

  constructor(
    private readonly db: Db,
    private readonly plans: Record<PlanId, Plan>,
    private readonly now: () => number,
  ) {}

  async checkout(user: CheckoutUser, plan: Exclude<PlanId, 'free'>) {
    const id = randomUUID();
    this.db
      .prepare("INSERT INTO checkout_sessions (id, user_id, provider, plan, status, created_at) VALUES (?, ?, 'sandbox', ?, 'open', ?)")
      .run(id, user.id, plan, this.iso());
    return { sessionId: id, redirectUrl: `/billing/sandbox?session=${encodeURIComponent(id)}` };
  }

  /** The TEST MODE page's Pay / Decline buttons. Only the session's owner can complete it, once. */
  complete(userId: string, sessionId: string, outcome: 'success' | 'decline'): 'success' | 'declined' {
    return this.db.transaction(() => {
      const s = this.db.prepare("SELECT * FROM checkout_sessions WHERE id = ? AND provider = 'sandbox'").get(sessionId) as
        | { user_id: string; plan: Exclude<PlanId, 'free'>; status: string }
        | undefined;
      if (!s || s.user_id !== userId) throw new AppError(404, 'not_found', 'no such checkout session');
      if (s.status !== 'open') throw new AppError(409, 'session_closed', `this checkout session is already ${s.status}`);
      const now = this.iso();
      const amount = this.plans[s.plan].priceJpy;
      const key = `sandbox:checkout:${sessionId}`;
      if (outcome === 'decline') {
        recordPayment(this.db, { userId, provider: 'sandbox', amountJpy: amount, status: 'failed', idempotencyKey: key, failureReason: 'card_declined (test mode)' }, now);
        this.db.prepare("UPDATE checkout_sessions SET status = 'declined' WHERE id = ?").run(sessionId);
        return 'declined';
      }
      const end = addMonths(now, 1);
      recordPayment(this.db, { userId, provider: 'sandbox', amountJpy: amount, status: 'succeeded', period: now.slice(0, 7), idempotencyKey: key }, now);
      upsertSubscription(this.db, { userId, plan: s.plan, provider: 'sandbox', status: 'active', providerSubscriptionId: `sandbox_sub_${userId}`, periodStart: now, periodEnd: end, cancelAtPeriodEnd: false }, now);
      this.db.prepare("UPDATE checkout_sessions SET status = 'completed' WHERE id = ?").run(sessionId);
      return 'success';
    })();
  }

  /**
   * Charges one period. The idempotency key is (subscription, period start), so running renewal twice
   * for the same period records one payment and extends the subscription once.
   */
  renew(sub: SubscriptionRow, outcome: 'success' | 'decline'): 'renewed' | 'declined' | 'already_done' {
    return this.db.transaction(() => {
      const fresh = subscriptionOf(this.db, sub.user_id);
      if (!fresh || fresh.provider !== 'sandbox' || fresh.status === 'canceled') throw new AppError(409, 'no_subscription', 'no active test-mode subscription to renew');
      const periodStart = fresh.current_period_end;
      const key = `sandbox:renewal:${fresh.id}:${periodStart}`;
      const amount = this.plans[fresh.plan].priceJpy;
      const now = this.iso();
      if (outcome === 'decline') {
        if (!recordPayment(this.db, { userId: fresh.user_id, provider: 'sandbox', amountJpy: amount, status: 'failed', period: periodStart.slice(0, 7), idempotencyKey: `${key}:failed:${now}`, failureReason: 'card_declined (test mode)' }, now)) return 'already_done';
        this.db.prepare("UPDATE subscriptions SET status = 'past_due', updated_at = ? WHERE id = ?").run(now, fresh.id);
        return 'declined';
      }
      if (!recordPayment(this.db, { userId: fresh.user_id, provider: 'sandbox', amountJpy: amount, status: 'succeeded', period: periodStart.slice(0, 7), idempotencyKey: key }, now)) return 'already_done';
      this.db
        .prepare("UPDATE subscriptions SET status = 'active', current_period_start = ?, current_period_end = ?, updated_at = ? WHERE id = ?")
        .run(periodStart, addMonths(periodStart, 1), now, fresh.id);
      return 'renewed';
    })();
  }

  async renewDue(): Promise<number> {
    const nowIso = this.iso();
    const due = this.db
      .prepare("SELECT * FROM subscriptions WHERE provider = 'sandbox' AND status IN ('active','past_due') AND current_period_end <= ?")
      .all(nowIso) as SubscriptionRow[];
    let n = 0;
    for (const sub of due) {
      if (sub.cancel_at_period_end || sub.status === 'past_due') {
        this.db.prepare("UPDATE subscriptions SET status = 'canceled', updated_at = ? WHERE id = ?").run(nowIso, sub.id);
      } else if (this.renew(sub, 'success') === 'renewed') n++;
    }
    return n;
  }

  async cancel(sub: SubscriptionRow): Promise<void> {
    this.db.prepare('UPDATE subscriptions SET cancel_at_period_end = 1, updated_at = ? WHERE id = ?').run(this.iso(), sub.id);
  }

  async terminate(sub: SubscriptionRow): Promise<void> {
    this.db.prepare("UPDATE subscriptions SET status = 'canceled', updated_at = ? WHERE id = ?").run(this.iso(), sub.id);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
