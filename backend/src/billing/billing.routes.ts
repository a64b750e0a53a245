import express from 'express';
import type { Db } from '../db/schema.js';
import { findUser } from '../auth/auth.service.js';
import type { BillingService } from './billing.service.js';
import { AppError, unauthenticated } from '../platform/errors.js';
import type { Impls } from '../platform/contract-router.js';
import { subscriptionOf } from '../plans/entitlements.js';

type BillingRoute =
  | 'checkout'
  | 'subscription'
  | 'cancel'
  | 'resume'
  | 'receipt'
  | 'receiptName'
  | 'portal'
  | 'sandboxComplete'
  | 'sandboxRenew'
  | 'amazonPayButton'
  | 'amazonPayComplete';

export function billingRoutes(deps: { db: Db; billing: BillingService }): Impls<BillingRoute> {
  const { db, billing } = deps;
  const userOf = async (id: string) => {
    const u = await findUser(deps, id);
    if (!u) throw unauthenticated();
    return u;
  };

  return {
    checkout: {
      handler: async ({ body, req }) => ({
        status: 200,
        body: await billing.checkout(await userOf(req.auth!.userId), body.plan, body.provider),
      }),
    },

    subscription: {
      handler: async ({ req }) => ({ status: 200, body: await billing.view(req.auth!.userId) }),
    },

    cancel: {
      handler: async ({ req }) => {
        await billing.cancel(req.auth!.userId);
        return { status: 200, body: await billing.view(req.auth!.userId) };
      },
    },

    resume: {
      handler: async ({ req }) => {
        await billing.resume(req.auth!.userId);
        return { status: 200, body: await billing.view(req.auth!.userId) };
      },
    },

    receipt: {
      handler: async ({ params, req }) => ({
        status: 200,
        body: await billing.receipt(req.auth!.userId, params.id),
      }),
    },

    receiptName: {
      handler: async ({ body, req }) => {
        await billing.setReceiptName(req.auth!.userId, body.name);
        return { status: 200, body: await billing.view(req.auth!.userId) };
      },
    },

    portal: {
      handler: async ({ req }) => ({
        status: 200,
        body: {
          redirectUrl: await billing.stripe().portal(await subscriptionOf(db, req.auth!.userId)),
        },
      }),
    },

    sandboxComplete: {
      handler: async ({ body, req }) => {
        const outcome = await billing.sandbox().complete(req.auth!.userId, body.session, body.outcome);
        return { status: 200, body: { outcome, ...(await billing.view(req.auth!.userId)) } };
      },
    },

    /** Test mode only: act out the next monthly renewal now, paid or declined. */
    sandboxRenew: {
      handler: async ({ body, req }) => {
        const sub = await subscriptionOf(db, req.auth!.userId);
        if (!sub || sub.provider !== 'sandbox')
          throw new AppError(409, 'no_subscription', 'no test-mode subscription to renew');
        const outcome = await billing.sandbox().renew(sub, body.outcome);
        return { status: 200, body: { outcome, ...(await billing.view(req.auth!.userId)) } };
      },
    },

    amazonPayButton: {
      handler: async ({ req }) => ({
        status: 200,
        body: await billing.amazonPay().buttonConfig(req.auth!.userId),
      }),
    },

    amazonPayComplete: {
      handler: async ({ body, req }) => {
        const outcome = await billing.amazonPay().complete(req.auth!.userId, body.checkoutSessionId);
        return { status: 200, body: { outcome, ...(await billing.view(req.auth!.userId)) } };
      },
    },
  };
}

/** Webhooks authenticate by signature, not by session, and need the exact bytes that were signed. */
export function webhookRoutes(
  billing: Pick<BillingService, 'stripe' | 'amazonPay'>,
): Impls<'stripeWebhook' | 'amazonPayWebhook'> {
  const raw = express.raw({ type: '*/*', limit: '512kb' });
  return {
    stripeWebhook: {
      use: [raw],
      handler: async ({ req }) => {
        if (!Buffer.isBuffer(req.body)) throw new AppError(400, 'invalid_request', 'webhook body missing');
        const result = await billing
          .stripe()
          .handleWebhook(req.body, req.headers['stripe-signature'] as string | undefined);
        return { status: 200, body: { received: true, result } };
      },
    },
    amazonPayWebhook: {
      use: [raw],
      handler: async ({ req }) => {
        if (!Buffer.isBuffer(req.body)) throw new AppError(400, 'invalid_request', 'IPN body missing');
        const result = await billing.amazonPay().handleIpn(req.body.toString('utf8'));
        return { status: 200, body: { received: true, result } };
      },
    },
  };
}
