import express, { Router } from 'express';
import { amazonPayCompleteSchema, checkoutRequestSchema, sandboxCompleteSchema, sandboxRenewSchema } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { requireAuth } from '../auth/auth.middleware.js';
import { findUser } from '../auth/auth.service.js';
import { AppError, unauthenticated } from '../platform/errors.js';
import { parse } from '../platform/validate.js';
import { subscriptionOf } from '../plans/entitlements.js';

export function billingRoutes(ctx: AppContext): Router {
  const r = Router();
  const session = requireAuth();
  const userOf = async (id: string) => {
    const u = await findUser(ctx, id);
    if (!u) throw unauthenticated();
    return u;
  };

  r.post('/checkout', session, async (req, res) => {
    const body = parse(checkoutRequestSchema, req.body, 'body');
    res.json(await ctx.billing.checkout(await userOf(req.auth!.userId), body.plan, body.provider));
  });

  r.get('/subscription', session, async (req, res) => {
    res.json(await ctx.billing.view(req.auth!.userId));
  });

  r.post('/cancel', session, async (req, res) => {
    await ctx.billing.cancel(req.auth!.userId);
    res.json(await ctx.billing.view(req.auth!.userId));
  });

  r.post('/portal', session, async (req, res) => {
    res.json({ redirectUrl: await ctx.billing.stripe().portal(await subscriptionOf(ctx.database.kysely, req.auth!.userId)) });
  });

  r.post('/sandbox/complete', session, async (req, res) => {
    const body = parse(sandboxCompleteSchema, req.body, 'body');
    const outcome = await ctx.billing.sandbox().complete(req.auth!.userId, body.session, body.outcome);
    res.json({ outcome, ...(await ctx.billing.view(req.auth!.userId)) });
  });

  /** Test mode only: act out the next monthly renewal now, paid or declined. */
  r.post('/sandbox/renew', session, async (req, res) => {
    const body = parse(sandboxRenewSchema, req.body, 'body');
    const sub = await subscriptionOf(ctx.database.kysely, req.auth!.userId);
    if (!sub || sub.provider !== 'sandbox') throw new AppError(409, 'no_subscription', 'no test-mode subscription to renew');
    const outcome = await ctx.billing.sandbox().renew(sub, body.outcome);
    res.json({ outcome, ...(await ctx.billing.view(req.auth!.userId)) });
  });

  r.get('/amazonpay/button', session, async (req, res) => {
    res.json(await ctx.billing.amazonPay().buttonConfig(req.auth!.userId));
  });

  r.post('/amazonpay/complete', session, async (req, res) => {
    const body = parse(amazonPayCompleteSchema, req.body, 'body');
    const outcome = await ctx.billing.amazonPay().complete(req.auth!.userId, body.checkoutSessionId);
    res.json({ outcome, ...(await ctx.billing.view(req.auth!.userId)) });
  });

  return r;
}

/** Webhooks authenticate by signature, not by session, and need the exact bytes that were signed. */
export function webhookRoutes(ctx: AppContext): Router {
  const r = Router();
  const raw = express.raw({ type: '*/*', limit: '512kb' });
  r.post('/stripe', raw, async (req, res) => {
    if (!Buffer.isBuffer(req.body)) throw new AppError(400, 'invalid_request', 'webhook body missing');
    const result = await ctx.billing.stripe().handleWebhook(req.body, req.headers['stripe-signature'] as string | undefined);
    res.json({ received: true, result });
  });
  r.post('/amazonpay', raw, async (req, res) => {
    if (!Buffer.isBuffer(req.body)) throw new AppError(400, 'invalid_request', 'IPN body missing');
    const result = await ctx.billing.amazonPay().handleIpn(req.body.toString('utf8'));
    res.json({ received: true, result });
  });
  return r;
}
