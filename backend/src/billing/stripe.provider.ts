/**
 * Stripe: Checkout in subscription mode, the Customer Portal and signed webhooks. A webhook is only a
 * hint: the subscription is always re-fetched, so duplicated, replayed or out-of-order events converge
 * on Stripe's current state, and the event id is claimed in the same transaction as the change.
 */
import Stripe from 'stripe';
import type { PlanId } from '@resemble/contracts';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../db/schema.js';
import { AppError } from '../platform/errors.js';
import { subscriptionOf, type SubscriptionRow } from '../plans/entitlements.js';
import type { CheckoutUser, PaymentProvider } from './billing.provider.js';
import { upsertSubscription, userOfCustomer } from './subscriptions.repo.js';
import { recordPayment } from './payments.repo.js';
import { applyEventOnce, eventSeen } from './webhook-events.repo.js';
import { userExists } from '../auth/users.repo.js';

export interface StripeOptions {
  secretKey: string;
  webhookSecret: string;
  pricePro: string;
  publicUrl: string;
  /** Tests point the real SDK at a local stand-in. */
  client?: Stripe;
}

const HANDLED = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
]);

export class StripeProvider implements PaymentProvider {
  readonly id = 'stripe' as const;
  readonly stripe: Stripe;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: StripeOptions,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.stripe =
      opts.client ?? new Stripe(opts.secretKey, { maxNetworkRetries: 2, timeout: 15_000, telemetry: false });
  }

  async checkout(user: CheckoutUser, plan: Exclude<PlanId, 'free'>) {
    const existing = await subscriptionOf(this.db, user.id);
    const customer = existing?.provider === 'stripe' ? existing.provider_customer_id : null;
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: this.opts.pricePro, quantity: 1 }],
        client_reference_id: user.id,
        ...(customer ? { customer } : { customer_email: user.email }),
        subscription_data: { metadata: { userId: user.id, plan } },
        metadata: { userId: user.id, plan },
        success_url: `${this.opts.publicUrl}/account?checkout=success`,
        cancel_url: `${this.opts.publicUrl}/pricing?checkout=cancelled`,
      }),
    );
    if (!session.url) throw new AppError(502, 'provider_error', 'Stripe did not return a checkout URL');
    return { sessionId: session.id, redirectUrl: session.url };
  }

  async portal(sub: SubscriptionRow | undefined): Promise<string> {
    if (!sub || sub.provider !== 'stripe' || !sub.provider_customer_id)
      throw new AppError(409, 'no_subscription', 'no Stripe subscription to manage');
    const customer = sub.provider_customer_id;
    const s = await this.call(() =>
      this.stripe.billingPortal.sessions.create({ customer, return_url: `${this.opts.publicUrl}/account` }),
    );
    return s.url;
  }

  async cancel(sub: SubscriptionRow): Promise<void> {
    if (!sub.provider_subscription_id) return;
    const id = sub.provider_subscription_id;
    const updated = await this.call(() =>
      this.stripe.subscriptions.update(id, { cancel_at_period_end: true }),
    );
    await this.db.transaction().execute((trx) => this.applySubscription(trx, updated, sub.user_id));
  }

  /**
   * Stripe keeps a subscription set to cancel at period end alive until then, so clearing the flag
   * resumes it; once Stripe has ended it (status canceled) only a new Checkout can start another.
   */
  async resume(sub: SubscriptionRow): Promise<void> {
    if (!sub.provider_subscription_id) throw needsCheckout();
    const id = sub.provider_subscription_id;
    const current = await this.call(() => this.stripe.subscriptions.retrieve(id));
    if (current.status === 'canceled') {
      await this.db.transaction().execute((trx) => this.applySubscription(trx, current, sub.user_id));
      throw needsCheckout();
    }
    const updated = await this.call(() =>
      this.stripe.subscriptions.update(id, { cancel_at_period_end: false }),
    );
    await this.db.transaction().execute((trx) => this.applySubscription(trx, updated, sub.user_id));
  }

  async terminate(sub: SubscriptionRow): Promise<void> {
    if (!sub.provider_subscription_id) return;
    const id = sub.provider_subscription_id;
    await this.call(() => this.stripe.subscriptions.cancel(id));
  }

  /** Verifies and applies one webhook delivery. Returns what happened, for the log and the tests. */
  async handleWebhook(
    rawBody: Buffer,
    signature: string | undefined,
  ): Promise<'applied' | 'duplicate' | 'ignored'> {
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature ?? '', this.opts.webhookSecret);
    } catch {
      throw new AppError(400, 'invalid_signature', 'webhook signature verification failed');
    }
    if (!HANDLED.has(event.type)) return 'ignored';
    if (await eventSeen(this.db, 'stripe', event.id)) return 'duplicate';

    const obj = event.data.object as unknown as Record<string, unknown>;
    const subscriptionId = subscriptionIdOf(event.type, obj);
    // Re-fetch: the event body may be older than Stripe's present state.
    const current = subscriptionId
      ? await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId))
      : null;
    const nowIso = new Date(this.now()).toISOString();
    // Two replicas receiving this event at once: the event id's primary key lets one apply it.
    return applyEventOnce(
      this.db,
      { provider: 'stripe', eventId: event.id, type: event.type },
      nowIso,
      async (trx) => {
        const hintedUser =
          event.type === 'checkout.session.completed' ? (obj.client_reference_id as string | null) : null;
        const userId = current ? await this.applySubscription(trx, current, hintedUser) : null;
        if (event.type === 'invoice.paid' || event.type === 'invoice.payment_failed') {
          const paid = event.type === 'invoice.paid';
          await recordPayment(
            trx,
            {
              userId: userId ?? (await userOfCustomer(trx, 'stripe', String(obj.customer ?? ''))),
              provider: 'stripe',
              amountJpy: Number(paid ? obj.amount_paid : obj.amount_due) || 0,
              status: paid ? 'succeeded' : 'failed',
              period:
                typeof obj.period_start === 'number'
                  ? new Date(obj.period_start * 1000).toISOString().slice(0, 7)
                  : null,
              idempotencyKey: `stripe:${String(obj.id)}:${paid ? 'paid' : `failed:${event.id}`}`,
              providerRef: String(obj.id),
              failureReason: paid ? null : 'payment_failed',
            },
            nowIso,
          );
        }
        return 'applied' as const;
      },
    );
  }

  /** Any Stripe failure is the provider's, not the caller's: 502, and for webhooks Stripe retries later. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'stripe call failed');
      throw new AppError(
        502,
        'provider_error',
        'Stripe is not answering as expected; please try again later',
      );
    }
  }

  /** Maps Stripe's subscription onto our row; returns the user it belongs to (or null if unknown). */
  private async applySubscription(
    trx: Executor,
    s: Stripe.Subscription,
    hintedUserId: string | null,
  ): Promise<string | null> {
    const metaUser = typeof s.metadata?.userId === 'string' ? s.metadata.userId : null;
    const customerId = typeof s.customer === 'string' ? s.customer : s.customer.id;
    const userId = metaUser ?? hintedUserId ?? (await userOfCustomer(trx, 'stripe', customerId));
    if (!userId || !(await userExists(trx, userId))) {
      this.log.warn({ subscription: s.id }, 'stripe subscription for an unknown user ignored');
      return null;
    }
    const item = s.items?.data?.[0] as
      { current_period_start?: number; current_period_end?: number } | undefined;
    const start = item?.current_period_start ?? s.start_date;
    const end = item?.current_period_end ?? s.start_date;
    // Pro is the only paid plan; the metadata is ours, set at checkout.
    const plan: Exclude<PlanId, 'free'> = 'pro';
    await upsertSubscription(
      trx,
      {
        userId,
        plan,
        provider: 'stripe',
        status: mapStatus(s.status),
        customerId,
        providerSubscriptionId: s.id,
        periodStart: new Date(start * 1000).toISOString(),
        periodEnd: new Date(end * 1000).toISOString(),
        cancelAtPeriodEnd: Boolean(s.cancel_at_period_end),
      },
      new Date(this.now()).toISOString(),
    );
    return userId;
  }
}

const needsCheckout = () =>
  new AppError(409, 'resume_needs_checkout', 'Stripe has ended this subscription; subscribe again');

function subscriptionIdOf(type: string, obj: Record<string, unknown>): string | null {
  const ref = (v: unknown) =>
    typeof v === 'string'
      ? v
      : v && typeof v === 'object' && 'id' in v
        ? String((v as { id: unknown }).id)
        : null;
  if (type.startsWith('customer.subscription.')) return ref(obj.id);
  if (type === 'checkout.session.completed') return ref(obj.subscription);
  // Invoices moved the subscription under parent.subscription_details in newer API versions.
  const parent = obj.parent as { subscription_details?: { subscription?: unknown } } | undefined;
  return ref(parent?.subscription_details?.subscription) ?? ref(obj.subscription);
}

function mapStatus(status: Stripe.Subscription.Status): SubscriptionRow['status'] {
  switch (status) {
    case 'active':
    case 'trialing':
      return 'active';
    case 'past_due':
    case 'unpaid':
      return 'past_due';
    case 'incomplete':
    case 'paused':
      return 'incomplete';
    default:
      return 'canceled';
  }
}
