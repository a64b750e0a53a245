/**
 * The embedded test-mode provider: no money moves, but every state a real provider produces (paid,
 * declined, renewed, renewal declined, cancelled) is reachable from the UI, through the same tables.
 */
import { randomUUID } from 'node:crypto';
import type { PlanId } from '@resemble/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Plan } from '../plans/plans.js';
import { subscriptionOf, type SubscriptionRow } from '../plans/entitlements.js';
import type { CheckoutUser, PaymentProvider } from './billing.provider.js';
import { addMonths, subscriptionsDue, updateSubscription, upsertSubscription } from './subscriptions.repo.js';
import { recordPayment } from './payments.repo.js';
import { checkoutSession, closeCheckoutSession, openCheckoutSession } from './checkout-sessions.repo.js';

export class SandboxProvider implements PaymentProvider {
  readonly id = 'sandbox' as const;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly plans: Record<PlanId, Plan>,
    private readonly now: () => number,
  ) {}

  async checkout(user: CheckoutUser, plan: Exclude<PlanId, 'free'>) {
    const id = randomUUID();
    await openCheckoutSession(this.db, { id, userId: user.id, provider: 'sandbox', plan }, this.iso());
    return { sessionId: id, redirectUrl: `/billing/sandbox?session=${encodeURIComponent(id)}` };
  }

  /** The TEST MODE page's Pay / Decline buttons. Only the session's owner can complete it, once. */
  complete(
    userId: string,
    sessionId: string,
    outcome: 'success' | 'decline',
  ): Promise<'success' | 'declined'> {
    return this.db.transaction().execute(async (trx) => {
      const s = await checkoutSession(trx, sessionId, 'sandbox');
      if (!s || s.user_id !== userId) throw new AppError(404, 'not_found', 'no such checkout session');
      const closed = () =>
        new AppError(409, 'session_closed', `this checkout session is already ${s.status}`);
      if (s.status !== 'open') throw closed();
      // Closed first: of two concurrent completions only one finds it open (the other rolls back).
      if (!(await closeCheckoutSession(trx, sessionId, outcome === 'decline' ? 'declined' : 'completed')))
        throw closed();
      const now = this.iso();
      const plan = s.plan as Exclude<PlanId, 'free'>;
      const amount = this.plans[plan].priceJpy;
      const key = `sandbox:checkout:${sessionId}`;
      if (outcome === 'decline') {
        await recordPayment(
          trx,
          {
            userId,
            provider: 'sandbox',
            amountJpy: amount,
            status: 'failed',
            idempotencyKey: key,
            failureReason: 'card_declined (test mode)',
          },
          now,
        );
        return 'declined';
      }
      const end = addMonths(now, 1);
      await recordPayment(
        trx,
        {
          userId,
          provider: 'sandbox',
          amountJpy: amount,
          status: 'succeeded',
          period: now.slice(0, 7),
          idempotencyKey: key,
        },
        now,
      );
      await upsertSubscription(
        trx,
        {
          userId,
          plan,
          provider: 'sandbox',
          status: 'active',
          providerSubscriptionId: `sandbox_sub_${userId}`,
          periodStart: now,
          periodEnd: end,
          cancelAtPeriodEnd: false,
        },
        now,
      );
      return 'success';
    });
  }

  /**
   * Charges one period. The idempotency key is (subscription, period start), so running renewal twice
   * for the same period records one payment and extends the subscription once.
   */
  renew(
    sub: SubscriptionRow,
    outcome: 'success' | 'decline',
  ): Promise<'renewed' | 'declined' | 'already_done'> {
    return this.db.transaction().execute(async (trx) => {
      const fresh = await subscriptionOf(trx, sub.user_id);
      if (!fresh || fresh.provider !== 'sandbox' || fresh.status === 'canceled')
        throw new AppError(409, 'no_subscription', 'no active test-mode subscription to renew');
      const periodStart = fresh.current_period_end;
      const key = `sandbox:renewal:${fresh.id}:${periodStart}`;
      const amount = this.plans[fresh.plan].priceJpy;
      const now = this.iso();
      if (outcome === 'decline') {
        if (
          !(await recordPayment(
            trx,
            {
              userId: fresh.user_id,
              provider: 'sandbox',
              amountJpy: amount,
              status: 'failed',
              period: periodStart.slice(0, 7),
              idempotencyKey: `${key}:failed:${now}`,
              failureReason: 'card_declined (test mode)',
            },
            now,
          ))
        )
          return 'already_done';
        await updateSubscription(trx, fresh.id, { status: 'past_due', updated_at: now });
        return 'declined';
      }
      if (
        !(await recordPayment(
          trx,
          {
            userId: fresh.user_id,
            provider: 'sandbox',
            amountJpy: amount,
            status: 'succeeded',
            period: periodStart.slice(0, 7),
            idempotencyKey: key,
          },
          now,
        ))
      )
        return 'already_done';
      await updateSubscription(trx, fresh.id, {
        status: 'active',
        current_period_start: periodStart,
        current_period_end: addMonths(periodStart, 1),
        updated_at: now,
      });
      return 'renewed';
    });
  }

  async renewDue(): Promise<number> {
    const nowIso = this.iso();
    const due = await subscriptionsDue(this.db, 'sandbox', ['active', 'past_due'], nowIso);
    let n = 0;
    for (const sub of due) {
      if (sub.cancel_at_period_end || sub.status === 'past_due') {
        await updateSubscription(this.db, sub.id, { status: 'canceled', updated_at: nowIso });
      } else if ((await this.renew(sub, 'success')) === 'renewed') n++;
    }
    return n;
  }

  async cancel(sub: SubscriptionRow): Promise<void> {
    await updateSubscription(this.db, sub.id, { cancel_at_period_end: 1, updated_at: this.iso() });
  }

  async resume(sub: SubscriptionRow): Promise<void> {
    await updateSubscription(this.db, sub.id, { cancel_at_period_end: 0, updated_at: this.iso() });
  }

  async terminate(sub: SubscriptionRow): Promise<void> {
    await updateSubscription(this.db, sub.id, { status: 'canceled', updated_at: this.iso() });
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
