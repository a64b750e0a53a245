/**
 * Amazon Pay Checkout v2 (region jp) with a recurring charge permission:
 *   signed button payload → buyer pays on Amazon → returns with a checkout session id → complete → the
 *   charge permission is stored; each month renewDue() creates one Charge per (subscription, period,
 *   attempt) with an idempotency key derived from exactly that, so a re-run cannot charge twice.
 *   SoftDeclined is retried on the next run (up to MAX_SOFT_RETRIES), HardDeclined sends the user to fix
 *   payment. IPNs are SNS-verified and treated as hints: the object is re-fetched before anything changes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WebStoreClient, type AmazonPayConfig } from '@amazonpay/amazon-pay-api-sdk-nodejs';
import type { PlanId } from '@resemble/contracts';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Plan } from '../plans/plans.js';
import type { SubscriptionRow } from '../plans/entitlements.js';
import type { CheckoutUser, PaymentProvider } from './billing.provider.js';
import { SnsVerifier, type SnsVerifierOptions } from './sns-verify.js';
import {
  addMonths,
  subscriptionByProviderRef,
  subscriptionsDue,
  updateSubscription,
  updateSubscriptionByProviderRef,
  upsertSubscription,
} from './subscriptions.repo.js';
import {
  countFailures,
  paymentByKey,
  paymentByProviderRef,
  recordPayment,
  updatePaymentByKey,
} from './payments.repo.js';
import { checkoutSession, closeCheckoutSession, openCheckoutSession } from './checkout-sessions.repo.js';
import { applyEventOnce, eventSeen } from './webhook-events.repo.js';
import { addNotification } from '../patterns/notifications.repo.js';

export const MAX_SOFT_RETRIES = 3;

export interface AmazonPayOptions {
  publicKeyId: string;
  /** PEM text, or a path to a PEM file. */
  privateKey: string;
  merchantId: string;
  storeId: string;
  sandbox: boolean;
  publicUrl: string;
  /** host:port of a local stand-in (tests only: the SDK then disables TLS verification process-wide). */
  overrideServiceUrl?: string;
  sns?: SnsVerifierOptions;
}

type Data = Record<string, unknown>;
interface ChargeData {
  chargeId?: string;
  statusDetails?: { state?: string; reasonCode?: string | null };
}

const idempotencyHeader = (key: string) => ({
  'x-amz-pay-idempotency-key': createHash('sha256').update(key).digest('hex').slice(0, 32),
});

export class AmazonPayProvider implements PaymentProvider {
  readonly id = 'amazonpay' as const;
  private readonly client: WebStoreClient;
  private readonly sns: SnsVerifier;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly plans: Record<PlanId, Plan>,
    private readonly opts: AmazonPayOptions,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    const config: AmazonPayConfig = {
      publicKeyId: opts.publicKeyId,
      privateKey: loadKey(opts.privateKey),
      region: 'jp',
      sandbox: opts.sandbox,
    };
    if (opts.overrideServiceUrl) config.overrideServiceUrl = opts.overrideServiceUrl;
    this.client = new WebStoreClient(config);
    this.sns = new SnsVerifier({ now, ...opts.sns });
  }

  async checkout(user: CheckoutUser, _plan: Exclude<PlanId, 'free'>) {
    // The account page renders the Amazon Pay button from GET /billing/amazonpay/button.
    return { sessionId: user.id, redirectUrl: '/app/account?provider=amazonpay' };
  }

  /** The payload is signed server-side so the amount and return URL cannot be altered in the browser. */
  async buttonConfig(userId: string) {
    const reference = randomUUID();
    await openCheckoutSession(
      this.db,
      { id: reference, userId, provider: 'amazonpay', plan: 'pro' },
      this.iso(),
    );
    const amount = { amount: String(this.plans.pro.priceJpy), currencyCode: 'JPY' };
    const payload = JSON.stringify({
      webCheckoutDetails: { checkoutResultReturnUrl: `${this.opts.publicUrl}/billing/amazonpay/return` },
      storeId: this.opts.storeId,
      chargePermissionType: 'Recurring',
      recurringMetadata: { frequency: { unit: 'Month', value: '1' }, amount },
      paymentDetails: {
        paymentIntent: 'AuthorizeWithCapture',
        chargeAmount: amount,
        presentmentCurrency: 'JPY',
      },
      merchantMetadata: {
        merchantReferenceId: reference,
        merchantStoreName: 'Resemble',
        noteToBuyer: 'Resemble Pro (monthly)',
        customInformation: userId,
      },
    });
    return {
      merchantId: this.opts.merchantId,
      publicKeyId: this.opts.publicKeyId,
      ledgerCurrency: 'JPY' as const,
      checkoutLanguage: 'ja_JP',
      productType: 'PayOnly' as const,
      placement: 'Checkout' as const,
      sandbox: this.opts.sandbox,
      payload,
      signature: this.client.generateButtonSignature(payload),
    };
  }

  /** Called when the buyer comes back with amazonCheckoutSessionId. Ownership is checked on Amazon's copy. */
  async complete(userId: string, checkoutSessionId: string): Promise<'success' | 'declined'> {
    const session = (await this.call(() => this.client.getCheckoutSession(checkoutSessionId))).data as Data;
    const meta = (session.merchantMetadata ?? {}) as {
      merchantReferenceId?: string;
      customInformation?: string;
    };
    const reference = meta.merchantReferenceId ?? '';
    const pending = await checkoutSession(this.db, reference, 'amazonpay');
    if (!pending || pending.user_id !== userId || meta.customInformation !== userId)
      throw new AppError(404, 'not_found', 'no such checkout session');
    if (pending.status !== 'open')
      throw new AppError(409, 'session_closed', `this checkout session is already ${pending.status}`);
    const amount = { amount: String(this.plans.pro.priceJpy), currencyCode: 'JPY' };
    let done: Data;
    try {
      done = (
        await this.call(() =>
          this.client.completeCheckoutSession(checkoutSessionId, { chargeAmount: amount }),
        )
      ).data as Data;
    } catch (err) {
      if (err instanceof AppError && err.code === 'payment_declined') {
        await this.db.transaction().execute(async (trx) => {
          await recordPayment(
            trx,
            {
              userId,
              provider: 'amazonpay',
              amountJpy: this.plans.pro.priceJpy,
              status: 'failed',
              idempotencyKey: `amazonpay:checkout:${checkoutSessionId}`,
              failureReason: String(err.details ?? 'declined'),
            },
            this.iso(),
          );
          await closeCheckoutSession(trx, reference, 'declined');
        });
        return 'declined';
      }
      throw err;
    }
    const chargePermissionId = String(done.chargePermissionId ?? '');
    if (!chargePermissionId)
      throw new AppError(502, 'provider_error', 'Amazon Pay did not return a charge permission');
    // Re-fetch: the permission must really be chargeable before we grant anything.
    const permission = (await this.call(() => this.client.getChargePermission(chargePermissionId))).data as {
      statusDetails?: { state?: string };
    };
    if (permission.statusDetails?.state !== 'Chargeable')
      throw new AppError(402, 'payment_declined', 'Amazon Pay did not approve the recurring payment');
    const nowIso = this.iso();
    await this.db.transaction().execute(async (trx) => {
      await recordPayment(
        trx,
        {
          userId,
          provider: 'amazonpay',
          amountJpy: this.plans.pro.priceJpy,
          status: 'succeeded',
          period: nowIso.slice(0, 7),
          idempotencyKey: `amazonpay:checkout:${checkoutSessionId}`,
          providerRef: String(done.chargeId ?? '') || null,
        },
        nowIso,
      );
      await upsertSubscription(
        trx,
        {
          userId,
          plan: 'pro',
          provider: 'amazonpay',
          status: 'active',
          customerId: null,
          providerSubscriptionId: chargePermissionId,
          periodStart: nowIso,
          periodEnd: addMonths(nowIso, 1),
          cancelAtPeriodEnd: false,
        },
        nowIso,
      );
      await closeCheckoutSession(trx, reference, 'completed', checkoutSessionId);
    });
    return 'success';
  }

  async renewDue(): Promise<number> {
    const due = await subscriptionsDue(this.db, 'amazonpay', ['active'], this.iso());
    let renewed = 0;
    for (const sub of due) {
      if (sub.cancel_at_period_end) {
        // Ended as cancelled: the permission is closed now that no resume can want it.
        await this.close(sub, 'Cancelled by subscriber').catch((err: unknown) =>
          this.log.warn(
            { subscription: sub.id, err: err instanceof Error ? err.message : String(err) },
            'closing the charge permission of an ended subscription failed; nothing is charged on it',
          ),
        );
        await updateSubscription(this.db, sub.id, { status: 'canceled', updated_at: this.iso() });
        continue;
      }
      try {
        if ((await this.renewOne(sub)) === 'renewed') renewed++;
      } catch (err) {
        this.log.error(
          { subscription: sub.id, err: err instanceof Error ? err.message : String(err) },
          'amazon pay renewal failed; will retry next run',
        );
      }
    }
    return renewed;
  }

  async renewOne(sub: SubscriptionRow): Promise<'renewed' | 'pending' | 'soft_declined' | 'hard_declined'> {
    const periodStart = sub.current_period_end;
    const prefix = `amazonpay:${sub.id}:${periodStart}:`;
    const softFails = await countFailures(this.db, prefix, 'SoftDeclined');
    const key = `${prefix}${softFails}`;
    const amount = this.plans[sub.plan].priceJpy;
    await recordPayment(
      this.db,
      {
        userId: sub.user_id,
        provider: 'amazonpay',
        amountJpy: amount,
        status: 'pending',
        period: periodStart.slice(0, 7),
        idempotencyKey: key,
      },
      this.iso(),
    );
    const existing = (await paymentByKey(this.db, key))!;
    if (existing.status === 'succeeded') {
      await this.extend(this.db, sub.id, periodStart);
      return 'renewed';
    }
    let charge: ChargeData;
    try {
      // Same key → Amazon returns the charge it already made instead of making another.
      charge = (
        await this.call(() =>
          this.client.createCharge(
            {
              chargePermissionId: sub.provider_subscription_id,
              chargeAmount: { amount: String(amount), currencyCode: 'JPY' },
              captureNow: true,
              canHandlePendingAuthorization: false,
            },
            idempotencyHeader(key),
          ),
        )
      ).data as ChargeData;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'payment_declined')) throw err;
      charge = { statusDetails: { state: 'Declined', reasonCode: String(err.details ?? 'HardDeclined') } };
    }
    return this.applyCharge(sub, key, periodStart, charge, softFails);
  }

  private applyCharge(
    sub: SubscriptionRow,
    key: string,
    periodStart: string,
    charge: ChargeData,
    softFails: number,
  ): Promise<'renewed' | 'pending' | 'soft_declined' | 'hard_declined'> {
    const state = charge.statusDetails?.state;
    const reason = charge.statusDetails?.reasonCode ?? null;
    const nowIso = this.iso();
    return this.db.transaction().execute(async (trx) => {
      if (state === 'Captured' || state === 'Authorized') {
        await updatePaymentByKey(trx, key, { status: 'succeeded', provider_ref: charge.chargeId ?? null });
        await this.extend(trx, sub.id, periodStart);
        return 'renewed' as const;
      }
      if (state === 'CaptureInitiated' || state === 'AuthorizationInitiated') {
        // Amazon settles later and says so by IPN (re-fetched there); a re-run reuses the same key meanwhile.
        await updatePaymentByKey(trx, key, { provider_ref: charge.chargeId ?? null });
        return 'pending' as const;
      }
      const soft = reason === 'SoftDeclined' && softFails + 1 < MAX_SOFT_RETRIES;
      await updatePaymentByKey(trx, key, {
        status: 'failed',
        provider_ref: charge.chargeId ?? null,
        failure_reason: soft ? 'SoftDeclined' : (reason ?? 'HardDeclined'),
      });
      if (soft) return 'soft_declined' as const;
      await updateSubscription(trx, sub.id, { status: 'past_due', updated_at: nowIso });
      await addNotification(
        trx,
        {
          userId: sub.user_id,
          kind: 'payment_failed',
          payload: { provider: 'amazonpay', reason: reason ?? 'HardDeclined', fixUrl: '/account/billing' },
        },
        nowIso,
      );
      return 'hard_declined' as const;
    });
  }

  private async extend(db: Executor, subId: string, periodStart: string): Promise<void> {
    // Only moves forward from the period that was charged, so a repeat cannot add a second month.
    await updateSubscription(
      db,
      subId,
      {
        status: 'active',
        current_period_start: periodStart,
        current_period_end: addMonths(periodStart, 1),
        updated_at: this.iso(),
      },
      { currentPeriodEnd: periodStart },
    );
  }

  /**
   * A closed charge permission can never be charged or reopened, so cancelling only stops our renewals
   * (we are the ones who charge): the permission stays Chargeable until the period ends, and closing it
   * then (renewDue) keeps a resume possible until that moment. Decision 121.
   */
  async cancel(sub: SubscriptionRow): Promise<void> {
    await updateSubscription(this.db, sub.id, { cancel_at_period_end: 1, updated_at: this.iso() });
  }

  /** Resumable while Amazon still says Chargeable; closed by the buyer on Amazon, it takes a new checkout. */
  async resume(sub: SubscriptionRow): Promise<void> {
    const id = sub.provider_subscription_id;
    const permission = id
      ? ((await this.call(() => this.client.getChargePermission(id))).data as {
          statusDetails?: { state?: string };
        })
      : null;
    if (permission?.statusDetails?.state !== 'Chargeable')
      throw new AppError(
        409,
        'resume_needs_checkout',
        'Amazon Pay no longer allows charges on this payment agreement; subscribe again when the period ends',
      );
    await updateSubscription(this.db, sub.id, { cancel_at_period_end: 0, updated_at: this.iso() });
  }

  async terminate(sub: SubscriptionRow): Promise<void> {
    await this.close(sub, 'Account deleted');
    await updateSubscription(this.db, sub.id, { status: 'canceled', updated_at: this.iso() });
  }

  private async close(sub: SubscriptionRow, reason: string): Promise<void> {
    if (!sub.provider_subscription_id) return;
    await this.call(() =>
      this.client.closeChargePermission(sub.provider_subscription_id!, {
        closureReason: reason,
        cancelPendingCharges: false,
      }),
    );
  }

  /** IPN: verify the SNS signature, then re-fetch the named object and apply Amazon's current state. */
  async handleIpn(body: string): Promise<'applied' | 'duplicate' | 'ignored'> {
    let msg;
    try {
      msg = await this.sns.verify(body);
    } catch (err) {
      this.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'IPN rejected');
      throw new AppError(400, 'invalid_signature', 'IPN signature verification failed');
    }
    if (msg.Type !== 'Notification') {
      this.log.info(
        { type: msg.Type, topic: msg.TopicArn },
        'SNS control message received; confirm the subscription in the SNS console',
      );
      return 'ignored';
    }
    if (await eventSeen(this.db, 'amazonpay', msg.MessageId)) return 'duplicate';
    let hint: { ObjectType?: string; ObjectId?: string; ChargePermissionId?: string };
    try {
      hint = JSON.parse(msg.Message) as typeof hint;
    } catch {
      return 'ignored';
    }
    if (hint.ObjectType === 'CHARGE' && hint.ObjectId) {
      const charge = (await this.call(() => this.client.getCharge(hint.ObjectId!))).data as ChargeData & {
        chargePermissionId?: string;
      };
      return applyEventOnce(
        this.db,
        { provider: 'amazonpay', eventId: msg.MessageId, type: 'CHARGE' },
        this.iso(),
        async (trx) => {
          const pay = await paymentByProviderRef(trx, 'amazonpay', charge.chargeId ?? '');
          if (!pay || pay.status !== 'pending' || !pay.idempotency_key) return 'applied' as const;
          const sub = await subscriptionByProviderRef(trx, 'amazonpay', charge.chargePermissionId ?? '');
          const state = charge.statusDetails?.state;
          if (state === 'Captured' && sub) {
            await updatePaymentByKey(trx, pay.idempotency_key, { status: 'succeeded' });
            const periodStart = pay.idempotency_key.split(':').slice(2, -1).join(':');
            await this.extend(trx, sub.id, periodStart);
          } else if (state === 'Declined') {
            await updatePaymentByKey(trx, pay.idempotency_key, {
              status: 'failed',
              failure_reason: charge.statusDetails?.reasonCode ?? 'Declined',
            });
          }
          return 'applied' as const;
        },
      );
    }
    if (
      (hint.ObjectType === 'CHARGE_PERMISSION' || hint.ChargePermissionId) &&
      (hint.ObjectId || hint.ChargePermissionId)
    ) {
      const id = hint.ObjectType === 'CHARGE_PERMISSION' ? hint.ObjectId! : hint.ChargePermissionId!;
      const permission = (await this.call(() => this.client.getChargePermission(id))).data as {
        statusDetails?: { state?: string };
      };
      return applyEventOnce(
        this.db,
        { provider: 'amazonpay', eventId: msg.MessageId, type: 'CHARGE_PERMISSION' },
        this.iso(),
        async (trx) => {
          const state = permission.statusDetails?.state;
          // Closed by the buyer on Amazon's side: no more charges, access runs to the end of the paid period.
          if (state === 'Closed')
            await updateSubscriptionByProviderRef(trx, 'amazonpay', id, {
              cancel_at_period_end: 1,
              updated_at: this.iso(),
            });
          if (state === 'NonChargeable')
            await updateSubscriptionByProviderRef(
              trx,
              'amazonpay',
              id,
              { status: 'past_due', updated_at: this.iso() },
              'active',
            );
          return 'applied' as const;
        },
      );
    }
    return 'ignored';
  }

  /** Maps SDK failures: declines become payment_declined (reason in details), anything else a 502. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const res =
        (err as { response?: { status?: number; data?: { reasonCode?: string; message?: string } } })
          .response ?? (err as { status?: number; data?: { reasonCode?: string } });
      const reason = res?.data?.reasonCode;
      if (reason === 'ResourceNotFound')
        throw new AppError(404, 'not_found', 'Amazon Pay does not know this checkout session');
      if (
        reason &&
        /Declined|PaymentMethodNotAllowed|CheckoutSessionCanceled|InvalidChargePermissionStatus/.test(reason)
      ) {
        throw new AppError(
          402,
          'payment_declined',
          'Amazon Pay declined the payment',
          reason === 'SoftDeclined' ? 'SoftDeclined' : reason === 'HardDeclined' ? 'HardDeclined' : reason,
        );
      }
      this.log.error({ status: res?.status, reasonCode: reason }, 'amazon pay call failed');
      throw new AppError(
        502,
        'provider_error',
        'Amazon Pay is not answering as expected; please try again later',
      );
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

function loadKey(key: string): string {
  if (key.includes('BEGIN')) return key;
  return readFileSync(key, 'utf8');
}
