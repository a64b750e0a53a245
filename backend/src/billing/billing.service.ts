/** Billing use cases over whichever providers are configured. Sandbox is on only when no real keys are. */
import type { BillingProvider, PlanId, SubscriptionResponse } from '@resemble/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { paymentsOfUser } from './payments.repo.js';
import { receiptIdsOfUser } from './receipts.repo.js';
import { issueReceipts, receiptOf } from './receipts.service.js';
import { findUserById, setReceiptName } from '../auth/users.repo.js';
import type { InvoiceIssuerConfig } from '../config.js';
import { AppError } from '../platform/errors.js';
import { isEntitled, subscriptionOf } from '../plans/entitlements.js';
import type { PaymentProvider } from './billing.provider.js';
import type { SandboxProvider } from './sandbox.provider.js';
import type { StripeProvider } from './stripe.provider.js';
import type { AmazonPayProvider } from './amazonpay.provider.js';

export interface BillingProviders {
  sandbox?: SandboxProvider;
  stripe?: StripeProvider;
  amazonpay?: AmazonPayProvider;
}

export class BillingService {
  constructor(
    private readonly db: Kysely<Database>,
    readonly providers: BillingProviders,
    private readonly now: () => number,
    /** Set: receipts issued from now on are qualified invoices (適格請求書). */
    private readonly invoiceIssuer: InvoiceIssuerConfig | null = null,
  ) {}

  get testMode(): boolean {
    return Boolean(this.providers.sandbox) && !this.providers.stripe && !this.providers.amazonpay;
  }

  get providerIds(): BillingProvider[] {
    return (['sandbox', 'stripe', 'amazonpay'] as const).filter((p) => this.providers[p]);
  }

  provider(id: BillingProvider): PaymentProvider {
    const p = this.providers[id];
    if (!p)
      throw new AppError(400, 'provider_unavailable', `payment provider "${id}" is not enabled here`, {
        enabled: this.providerIds,
      });
    return p;
  }

  sandbox(): SandboxProvider {
    if (!this.providers.sandbox) throw new AppError(404, 'not_found', 'test-mode billing is not enabled');
    return this.providers.sandbox;
  }

  stripe(): StripeProvider {
    if (!this.providers.stripe) throw new AppError(404, 'not_found', 'Stripe is not enabled');
    return this.providers.stripe;
  }

  amazonPay(): AmazonPayProvider {
    if (!this.providers.amazonpay) throw new AppError(404, 'not_found', 'Amazon Pay is not enabled');
    return this.providers.amazonpay;
  }

  async checkout(
    user: { id: string; email: string },
    plan: Exclude<PlanId, 'free'>,
    providerId: BillingProvider,
  ) {
    const provider = this.provider(providerId);
    const sub = await subscriptionOf(this.db, user.id);
    if (sub && isEntitled(sub, this.now()) && sub.status === 'active' && !sub.cancel_at_period_end) {
      throw new AppError(409, 'already_subscribed', 'you already have an active subscription', {
        provider: sub.provider,
      });
    }
    const r = await provider.checkout(user, plan);
    return {
      provider: providerId,
      redirectUrl: r.redirectUrl,
      sessionId: r.sessionId,
      testMode: this.testMode,
    };
  }

  async cancel(userId: string): Promise<void> {
    const sub = await subscriptionOf(this.db, userId);
    if (!sub || !isEntitled(sub, this.now()))
      throw new AppError(409, 'no_subscription', 'there is no active subscription to cancel');
    await this.provider(sub.provider).cancel(sub);
  }

  /**
   * Undoes a cancellation while the paid period runs: renewal goes on as if it had never been cancelled.
   * After the period ended there is nothing to resume; the user subscribes again.
   */
  async resume(userId: string): Promise<void> {
    const sub = await subscriptionOf(this.db, userId);
    if (!sub || !isEntitled(sub, this.now()))
      throw new AppError(409, 'no_subscription', 'there is no running subscription to resume');
    if (!sub.cancel_at_period_end)
      throw new AppError(409, 'not_cancelled', 'this subscription is not cancelled; it renews as usual');
    await this.provider(sub.provider).resume(sub);
  }

  async receipt(userId: string, paymentId: string) {
    await this.issueReceipts(userId);
    return receiptOf(this.db, userId, paymentId);
  }

  async setReceiptName(userId: string, name: string): Promise<void> {
    await setReceiptName(this.db, userId, name === '' ? null : name);
  }

  private async issueReceipts(userId: string): Promise<void> {
    const sub = await subscriptionOf(this.db, userId);
    await issueReceipts(
      this.db,
      userId,
      sub?.plan === 'free' || !sub ? 'pro' : sub.plan,
      this.invoiceIssuer,
      new Date(this.now()).toISOString(),
    );
  }

  async cancelForDeletion(userId: string): Promise<void> {
    const sub = await subscriptionOf(this.db, userId);
    if (sub && sub.status !== 'canceled' && this.providers[sub.provider])
      await this.providers[sub.provider]!.terminate(sub);
  }

  async renewDue(): Promise<number> {
    let n = 0;
    for (const p of Object.values(this.providers) as PaymentProvider[])
      if (p.renewDue) n += await p.renewDue();
    return n;
  }

  async view(userId: string): Promise<SubscriptionResponse> {
    const sub = await subscriptionOf(this.db, userId);
    const entitled = isEntitled(sub, this.now());
    await this.issueReceipts(userId);
    const [payments, receipts, user] = await Promise.all([
      paymentsOfUser(this.db, userId),
      receiptIdsOfUser(this.db, userId),
      findUserById(this.db, userId),
    ]);
    return {
      plan: entitled ? sub!.plan : 'free',
      testMode: this.testMode,
      subscription: sub
        ? {
            plan: sub.plan,
            provider: sub.provider,
            status: sub.status,
            currentPeriodEnd: sub.current_period_end,
            cancelAtPeriodEnd: sub.cancel_at_period_end === 1,
            needsPaymentFix: sub.status === 'past_due',
          }
        : null,
      payments: payments.map((p) => ({
        id: p.id,
        provider: p.provider as BillingProvider,
        amountJpy: p.amount_jpy,
        status: p.status,
        period: p.period,
        createdAt: p.created_at,
        failureReason: p.failure_reason,
        receiptId: receipts.has(p.id) ? p.id : null,
      })),
      receiptName: user?.receipt_name ?? null,
    };
  }
}
