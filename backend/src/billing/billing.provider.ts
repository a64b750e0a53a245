import type { BillingProvider, PlanId } from '@resemble/contracts';
import type { SubscriptionRow } from '../plans/entitlements.js';

export interface CheckoutUser {
  id: string;
  email: string;
}

/** What every payment provider does for us; provider-specific flows (webhooks, IPN, return) sit beside it. */
export interface PaymentProvider {
  readonly id: BillingProvider;
  checkout(
    user: CheckoutUser,
    plan: Exclude<PlanId, 'free'>,
  ): Promise<{ redirectUrl: string; sessionId: string }>;
  /** Stops renewal; access stays until the end of the paid period. */
  cancel(sub: SubscriptionRow): Promise<void>;
  /** Undoes cancel() while the paid period runs, so renewal goes on. */
  resume(sub: SubscriptionRow): Promise<void>;
  /** Ends billing at once (account deletion). */
  terminate(sub: SubscriptionRow): Promise<void>;
  /** Charges subscriptions whose period ended, where the provider does not do it itself. */
  renewDue?(): Promise<number>;
}
