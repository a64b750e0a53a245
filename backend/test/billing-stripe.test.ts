import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { startStripeStandIn, stripeSubscription, type StripeStandIn } from './support/stripe-stand-in.js';
import { PASSWORD, registered, startApp, type Client, type TestApp, rawSql } from './support/harness.js';

const SECRET = 'whsec_test_secret_for_resemble';
const day = 86400;

describe('Stripe billing (real SDK against a local stand-in)', () => {
  let ml: MlStandIn;
  let stand: StripeStandIn;
  let app: TestApp;
  let stripe: Stripe;
  let seq = 0;

  beforeAll(async () => {
    ml = await startMlStandIn();
    stand = await startStripeStandIn();
    stripe = new Stripe('sk_test_resemble', {
      host: '127.0.0.1',
      port: stand.port,
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
    app = await startApp(
      {
        ML_URL: ml.url,
        STRIPE_SECRET_KEY: 'sk_test_resemble',
        STRIPE_WEBHOOK_SECRET: SECRET,
        STRIPE_PRICE_PRO: 'price_pro_jpy',
      },
      { stripeClient: stripe },
    );
  });
  afterAll(async () => {
    await app.close();
    await stand.close();
    await ml.close();
  });

  const userIdOf = async (c: Client) => (await c.get('/api/v1/me')).body.id as string;
  const event = (type: string, object: Record<string, unknown>, id = `evt_${++seq}`) => ({
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  async function deliver(
    body: object,
    opts: { secret?: string; timestamp?: number; signature?: string } = {},
  ) {
    const payload = JSON.stringify(body);
    const header =
      opts.signature ??
      stripe.webhooks.generateTestHeaderString({
        payload,
        secret: opts.secret ?? SECRET,
        timestamp: opts.timestamp,
      });
    const res = await fetch(`${app.url}/api/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
    return { status: res.status, body: (await res.json()) as any };
  }
  async function subscribed(c: Client, subId: string, status = 'active') {
    const userId = await userIdOf(c);
    const now = Math.floor(Date.now() / 1000);
    stand.subscriptions.set(subId, stripeSubscription(subId, userId, status, now, now + 30 * day));
    const r = await deliver(
      event('checkout.session.completed', {
        id: `cs_${subId}`,
        object: 'checkout.session',
        client_reference_id: userId,
        subscription: subId,
        customer: stand.subscriptions.get(subId)!.customer,
      }),
    );
    expect(r.status).toBe(200);
    return userId;
  }

  it('has no sandbox and no test mode when Stripe keys are set', async () => {
    const r = await app.client().get('/api/v1/plans');
    expect(r.body).toMatchObject({ testMode: false, providers: ['stripe'] });
  });

  it('creates a Checkout session in subscription mode bound to the user', async () => {
    const c = await registered(app);
    const r = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'stripe' });
    expect(r.status).toBe(200);
    expect(r.body.redirectUrl).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    const sent = stand.checkoutRequests.at(-1)!;
    expect(sent).toMatchObject({
      mode: 'subscription',
      client_reference_id: await userIdOf(c),
      line_items: [{ price: 'price_pro_jpy', quantity: '1' }],
    });
    expect(sent.subscription_data.metadata.userId).toBe(await userIdOf(c));
    // The redirect alone grants nothing.
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('grants Pro on a signed checkout.session.completed after re-fetching the subscription', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_grant');
    expect((await c.get('/api/v1/me')).body).toMatchObject({ plan: 'pro', billingProvider: 'stripe' });
  });

  it('rejects forged and unsigned webhooks without changing anything', async () => {
    const c = await registered(app);
    const userId = await userIdOf(c);
    const now = Math.floor(Date.now() / 1000);
    stand.subscriptions.set(
      'sub_forged',
      stripeSubscription('sub_forged', userId, 'active', now, now + 30 * day),
    );
    const body = event('checkout.session.completed', {
      id: 'cs_forged',
      client_reference_id: userId,
      subscription: 'sub_forged',
    });
    const forged = await deliver(body, { secret: 'whsec_attacker' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_signature');
    expect((await deliver(body, { signature: 'garbage' })).status).toBe(400);
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('rejects a replayed event whose signature timestamp is too old', async () => {
    const c = await registered(app);
    const userId = await userIdOf(c);
    const now = Math.floor(Date.now() / 1000);
    stand.subscriptions.set(
      'sub_replay',
      stripeSubscription('sub_replay', userId, 'active', now, now + 30 * day),
    );
    const r = await deliver(
      event('checkout.session.completed', {
        id: 'cs_replay',
        client_reference_id: userId,
        subscription: 'sub_replay',
      }),
      { timestamp: now - 3600 },
    );
    expect(r.status).toBe(400);
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('applies a duplicated event once (one payment per invoice)', async () => {
    const c = await registered(app);
    const userId = await subscribed(c, 'sub_dup');
    const invoice = event('invoice.paid', {
      id: 'in_dup',
      object: 'invoice',
      customer: stand.subscriptions.get('sub_dup')!.customer,
      amount_paid: 1480,
      period_start: Math.floor(Date.now() / 1000),
      parent: { subscription_details: { subscription: 'sub_dup' } },
    });
    const first = await deliver(invoice);
    const second = await deliver(invoice);
    expect(first.body.result).toBe('applied');
    expect(second.body.result).toBe('duplicate');
    const pays = await rawSql(app.services).all(
      "SELECT * FROM payments WHERE user_id = ? AND provider = 'stripe'",
      userId,
    );
    expect(pays).toHaveLength(1);
    expect(pays[0]).toMatchObject({ status: 'succeeded', amount_jpy: 1480 });
  });

  it('is safe against out-of-order delivery: a stale "active" event cannot undo a cancellation', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_order');
    const stale = { ...stand.subscriptions.get('sub_order')! };
    stand.subscriptions.get('sub_order')!.status = 'canceled';
    await deliver(event('customer.subscription.deleted', { ...stand.subscriptions.get('sub_order')! }));
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
    // The older update arrives late; its body says active, Stripe says canceled.
    const late = await deliver(event('customer.subscription.updated', stale));
    expect(late.body.result).toBe('applied');
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('records a failed invoice and follows Stripe into past_due', async () => {
    const c = await registered(app);
    const userId = await subscribed(c, 'sub_fail');
    stand.subscriptions.get('sub_fail')!.status = 'past_due';
    const r = await deliver(
      event('invoice.payment_failed', {
        id: 'in_fail',
        object: 'invoice',
        customer: stand.subscriptions.get('sub_fail')!.customer,
        amount_due: 1480,
        parent: { subscription_details: { subscription: 'sub_fail' } },
      }),
    );
    expect(r.body.result).toBe('applied');
    const view = (await c.get('/api/v1/billing/subscription')).body;
    expect(view.subscription).toMatchObject({ status: 'past_due', needsPaymentFix: true });
    expect(await rawSql(app.services).all('SELECT status FROM payments WHERE user_id = ?', userId)).toEqual([
      { status: 'failed' },
    ]);
  });

  it('ignores event types it does not handle', async () => {
    expect((await deliver(event('charge.refunded', { id: 'ch_1' }))).body.result).toBe('ignored');
  });

  it('cancels at period end through the API and opens the Customer Portal', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_cancel');
    const portal = await c.post('/api/v1/billing/portal');
    expect(portal.body.redirectUrl).toMatch(/^https:\/\/billing\.stripe\.test\//);
    const r = await c.post('/api/v1/billing/cancel');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: true } });
    expect(stand.subscriptions.get('sub_cancel')!.cancel_at_period_end).toBe(true);
  });

  it('resumes a cancelled subscription through the API: Stripe clears cancel_at_period_end', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_resume');
    expect((await c.post('/api/v1/billing/resume')).body.error.code).toBe('not_cancelled');
    await c.post('/api/v1/billing/cancel');
    const r = await c.post('/api/v1/billing/resume');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: false } });
    expect(stand.subscriptions.get('sub_resume')!.cancel_at_period_end).toBe(false);
  });

  it('webhooks keep cancel and resume made in the Customer Portal consistent', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_portal');
    const s = stand.subscriptions.get('sub_portal')!;
    // The user cancels in the Portal: Stripe changes the subscription and says so by webhook.
    s.cancel_at_period_end = true;
    await deliver(event('customer.subscription.updated', { ...s }));
    let view = (await c.get('/api/v1/billing/subscription')).body;
    expect(view).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: true } });
    // ...and resumes there too: a stale copy of the cancelled state arriving late changes nothing.
    const staleCancelled = { ...s };
    s.cancel_at_period_end = false;
    await deliver(event('customer.subscription.updated', { ...s }));
    await deliver(event('customer.subscription.updated', staleCancelled));
    view = (await c.get('/api/v1/billing/subscription')).body;
    expect(view.subscription.cancelAtPeriodEnd).toBe(false);
    // At the period end of a cancelled subscription Stripe deletes it: Free from then on.
    s.cancel_at_period_end = true;
    s.status = 'canceled';
    await deliver(event('customer.subscription.deleted', { ...s }));
    view = (await c.get('/api/v1/billing/subscription')).body;
    expect(view).toMatchObject({ plan: 'free', subscription: { status: 'canceled' } });
  });

  it('a subscription Stripe has already ended cannot be resumed: 409 and our copy follows Stripe', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_gone');
    await c.post('/api/v1/billing/cancel');
    // Ended on Stripe's side, and the deletion webhook has not arrived yet.
    stand.subscriptions.get('sub_gone')!.status = 'canceled';
    const r = await c.post('/api/v1/billing/resume');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('resume_needs_checkout');
    expect((await c.get('/api/v1/billing/subscription')).body).toMatchObject({
      plan: 'free',
      subscription: { status: 'canceled' },
    });
  });

  it('a paid invoice gets a receipt paid by card through Stripe', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_receipt');
    await deliver(
      event('invoice.paid', {
        id: 'in_receipt',
        object: 'invoice',
        customer: stand.subscriptions.get('sub_receipt')!.customer,
        amount_paid: 1480,
        period_start: Math.floor(Date.now() / 1000),
        parent: { subscription_details: { subscription: 'sub_receipt' } },
      }),
    );
    const [payment] = (await c.get('/api/v1/billing/subscription')).body.payments;
    const receipt = (await c.get(`/api/v1/billing/receipts/${payment.receiptId}`)).body;
    expect(receipt).toMatchObject({ provider: 'stripe', amountJpy: 1480, taxJpy: 134, plan: 'pro' });
  });

  it('deleting the account cancels the Stripe subscription', async () => {
    const c = await registered(app);
    await subscribed(c, 'sub_delete');
    const r = await c.del('/api/v1/me', { password: PASSWORD });
    expect(r.status).toBe(200);
    expect(stand.subscriptions.get('sub_delete')!.status).toBe('canceled');
  });

  it('answers 502 when Stripe cannot be reached for a re-fetch, and a retry applies it', async () => {
    const c = await registered(app);
    const userId = await userIdOf(c);
    const body = event('checkout.session.completed', {
      id: 'cs_missing',
      client_reference_id: userId,
      subscription: 'sub_later',
    });
    const first = await deliver(body);
    expect(first.status).toBe(502);
    expect(first.body.error.code).toBe('provider_error');
    const now = Math.floor(Date.now() / 1000);
    stand.subscriptions.set(
      'sub_later',
      stripeSubscription('sub_later', userId, 'active', now, now + 30 * day),
    );
    expect((await deliver(body)).body.result).toBe('applied');
    expect((await c.get('/api/v1/me')).body.plan).toBe('pro');
  });
});
