/** A local HTTP server speaking the few Stripe REST shapes backend uses, for the real SDK to talk to. */
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface StripeStandIn {
  port: number;
  subscriptions: Map<string, Record<string, any>>;
  checkoutRequests: Record<string, any>[];
  close(): Promise<void>;
}

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const subscriptions = new Map<string, Record<string, any>>();
  const checkoutRequests: Record<string, any>[] = [];
  let n = 0;
  const app = express();
  app.use(express.urlencoded({ extended: true }));
  const missing = (res: express.Response, id: string) =>
    res.status(404).json({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such subscription: '${id}'`,
      },
    });
  app.post('/v1/checkout/sessions', (req, res) => {
    checkoutRequests.push(req.body);
    const id = `cs_test_${++n}`;
    res.json({
      id,
      object: 'checkout.session',
      mode: 'subscription',
      url: `https://checkout.stripe.test/c/pay/${id}`,
    });
  });
  app.post('/v1/billing_portal/sessions', (req, res) => {
    res.json({
      id: `bps_${++n}`,
      object: 'billing_portal.session',
      customer: req.body.customer,
      url: `https://billing.stripe.test/p/session/${n}`,
    });
  });
  app.get('/v1/subscriptions/:id', (req, res) => {
    const s = subscriptions.get(req.params.id);
    if (!s) return missing(res, req.params.id);
    res.json(s);
  });
  app.post('/v1/subscriptions/:id', (req, res) => {
    const s = subscriptions.get(req.params.id);
    if (!s) return missing(res, req.params.id);
    // Stripe refuses to change a subscription it has ended.
    if (s.status === 'canceled')
      return res.status(400).json({
        error: {
          type: 'invalid_request_error',
          message: 'A canceled subscription can only update its cancellation_details and metadata.',
        },
      });
    if (req.body.cancel_at_period_end !== undefined)
      s.cancel_at_period_end = req.body.cancel_at_period_end === 'true';
    res.json(s);
  });
  app.delete('/v1/subscriptions/:id', (req, res) => {
    const s = subscriptions.get(req.params.id);
    if (!s) return missing(res, req.params.id);
    s.status = 'canceled';
    res.json(s);
  });
  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    subscriptions,
    checkoutRequests,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A Stripe subscription object in the 2025+ API shape (periods on the items). */
export function stripeSubscription(
  id: string,
  userId: string,
  status: string,
  periodStart: number,
  periodEnd: number,
  customer = `cus_${userId.slice(0, 8)}`,
) {
  return {
    id,
    object: 'subscription',
    customer,
    status,
    cancel_at_period_end: false,
    start_date: periodStart,
    metadata: { userId, plan: 'pro' },
    items: {
      object: 'list',
      data: [
        {
          id: `si_${id}`,
          object: 'subscription_item',
          current_period_start: periodStart,
          current_period_end: periodEnd,
        },
      ],
    },
  };
}
