import { createHash, createVerify, constants } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import {
  merchantKeys,
  startAmazonPayStandIn,
  startSnsSigner,
  type AmazonPayStandIn,
} from './support/amazonpay-stand-in.js';
import { registered, relogin, startApp, type Client, type TestApp, rawSql } from './support/harness.js';

describe('Amazon Pay billing (real SDK against a local HTTPS stand-in)', () => {
  let ml: MlStandIn;
  let stand: AmazonPayStandIn;
  let sns: Awaited<ReturnType<typeof startSnsSigner>>;
  let app: TestApp;
  let keys: ReturnType<typeof merchantKeys>;
  let now = Date.now();
  let seq = 0;

  beforeAll(async () => {
    ml = await startMlStandIn();
    keys = merchantKeys();
    // The stand-in verifies every request's RSASSA-PSS signature against the merchant's public key.
    stand = await startAmazonPayStandIn({ publicKey: keys.publicKey });
    sns = await startSnsSigner();
    app = await startApp(
      {
        ML_URL: ml.url,
        AMAZON_PAY_PUBLIC_KEY_ID: 'SANDBOX-AETESTKEY',
        AMAZON_PAY_PRIVATE_KEY: keys.privateKey,
        AMAZON_PAY_MERCHANT_ID: 'A2MERCHANT',
        AMAZON_PAY_STORE_ID: 'amzn1.application-oa2-client.test',
      },
      {
        now: () => now,
        amazonPay: {
          overrideServiceUrl: stand.host,
          sns: { certUrlPattern: /^http:\/\/127\.0\.0\.1:\d+\/[^?#]+\.pem$/ },
        },
      },
    );
  });
  afterAll(async () => {
    await app.close();
    await sns.close();
    await stand.close();
    await ml.close();
  });

  /** What the browser does: render the signed button, pay on Amazon, come back with the session id. */
  async function payWithAmazon(c: Client, opts: { decline?: boolean } = {}) {
    const button = await c.get('/api/v1/billing/amazonpay/button');
    expect(button.status).toBe(200);
    const payload = JSON.parse(button.body.payload);
    const id = `amzn-cs-${++seq}`;
    stand.sessions.set(id, {
      merchantReferenceId: payload.merchantMetadata.merchantReferenceId,
      customInformation: payload.merchantMetadata.customInformation,
      decline: opts.decline,
    });
    return {
      id,
      button,
      done: await c.post('/api/v1/billing/amazonpay/complete', { checkoutSessionId: id }),
    };
  }
  const subOf = (c: Client) => c.get('/api/v1/billing/subscription').then((r) => r.body);
  const ipn = async (message: object, over: Record<string, string> = {}) => {
    const signed = sns.sign({
      Type: 'Notification',
      MessageId: `msg-${++seq}`,
      TopicArn: 'arn:aws:sns:ap-northeast-1:000000000000:AmazonPay',
      Message: JSON.stringify(message),
      Timestamp: new Date(now).toISOString(),
      ...over,
    });
    const res = await fetch(`${app.url}/api/v1/webhooks/amazonpay`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8' },
      body: JSON.stringify(signed),
    });
    return { status: res.status, body: (await res.json()) as any, signed };
  };

  it('serves a server-signed button payload (jp, JPY, recurring monthly)', async () => {
    const c = await registered(app);
    const r = await c.get('/api/v1/billing/amazonpay/button');
    expect(r.body).toMatchObject({
      merchantId: 'A2MERCHANT',
      publicKeyId: 'SANDBOX-AETESTKEY',
      ledgerCurrency: 'JPY',
      productType: 'PayOnly',
    });
    const payload = JSON.parse(r.body.payload);
    expect(payload).toMatchObject({
      chargePermissionType: 'Recurring',
      recurringMetadata: {
        frequency: { unit: 'Month', value: '1' },
        amount: { amount: '1480', currencyCode: 'JPY' },
      },
    });
    const toSign = `AMZN-PAY-RSASSA-PSS\n${createHash('sha256').update(r.body.payload).digest('hex')}`;
    const ok = createVerify('RSA-SHA256')
      .update(toSign)
      .verify(
        { key: keys.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 },
        r.body.signature,
        'base64',
      );
    expect(ok).toBe(true);
  });

  it('create → return → complete grants Pro with the charge permission stored, requests signed', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      outcome: 'success',
      plan: 'pro',
      subscription: { provider: 'amazonpay', status: 'active' },
    });
    expect(stand.authHeaders.at(-1)).toMatch(
      /^AMZN-PAY-RSASSA-PSS PublicKeyId=SANDBOX-AETESTKEY, SignedHeaders=.*Signature=/,
    );
    const row = (await rawSql(app.services).get(
      "SELECT provider_subscription_id FROM subscriptions WHERE provider = 'amazonpay' ORDER BY created_at DESC",
    )) as { provider_subscription_id: string };
    expect(stand.permissions.get(row.provider_subscription_id)?.state).toBe('Chargeable');
  });

  it("cannot complete another user's checkout session", async () => {
    const owner = await registered(app);
    const thief = await registered(app);
    const button = await owner.get('/api/v1/billing/amazonpay/button');
    const payload = JSON.parse(button.body.payload);
    stand.sessions.set('amzn-stolen', {
      merchantReferenceId: payload.merchantMetadata.merchantReferenceId,
      customInformation: payload.merchantMetadata.customInformation,
    });
    const r = await thief.post('/api/v1/billing/amazonpay/complete', { checkoutSessionId: 'amzn-stolen' });
    expect(r.status).toBe(404);
    expect((await thief.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('an unknown checkout session is a 404; an unreachable Amazon Pay a 502', async () => {
    const c = await registered(app);
    const unknown = await c.post('/api/v1/billing/amazonpay/complete', {
      checkoutSessionId: 'amzn-never-made',
    });
    expect(unknown.status).toBe(404);
    expect((await c.post('/api/v1/billing/amazonpay/complete', {})).status).toBe(400);
    const { id } = await (async () => {
      const button = await c.get('/api/v1/billing/amazonpay/button');
      const payload = JSON.parse(button.body.payload);
      const sid = `amzn-cs-${++seq}`;
      stand.sessions.set(sid, {
        merchantReferenceId: payload.merchantMetadata.merchantReferenceId,
        customInformation: payload.merchantMetadata.customInformation,
      });
      return { id: sid };
    })();
    stand.down = true;
    try {
      const r = await c.post('/api/v1/billing/amazonpay/complete', { checkoutSessionId: id });
      expect(r.status).toBe(502);
      expect(r.body.error.code).toBe('provider_error');
      expect((await c.get('/api/v1/me')).body.plan).toBe('free');
    } finally {
      stand.down = false;
    }
  });

  it('a declined checkout grants nothing', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c, { decline: true });
    expect(done.body).toMatchObject({ outcome: 'declined', plan: 'free' });
    expect(done.body.payments[0]).toMatchObject({ status: 'failed', provider: 'amazonpay' });
  });

  it('renews once per period; re-runs and a lost write cannot double-charge', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    const end1 = done.body.subscription.currentPeriodEnd as string;
    const calls = stand.chargeCalls;
    now = Date.parse(end1) + 1000;
    try {
      expect(await app.services.billing.renewDue()).toBeGreaterThanOrEqual(1);
      // Other tests' subscriptions fall due too; what matters is that re-runs add no charge.
      const afterFirst = stand.chargeCalls;
      expect(afterFirst).toBeGreaterThan(calls);
      await app.services.billing.renewDue();
      expect(stand.chargeCalls).toBe(afterFirst);
      const userId = (await (await relogin(c), c.get('/api/v1/me'))).body.id;
      // Simulate a crash after Amazon charged but before our write: same (subscription, period) key again.
      await rawSql(app.services).run(
        "UPDATE payments SET status = 'pending' WHERE user_id = ? AND period = ? AND status = 'succeeded' AND idempotency_key LIKE 'amazonpay:%:%:%'",
        userId,
        end1.slice(0, 7),
      );
      await rawSql(app.services).run(
        'UPDATE subscriptions SET current_period_end = ? WHERE user_id = ?',
        end1,
        userId,
      );
      await app.services.billing.renewDue();
      expect(stand.chargeCalls).toBe(afterFirst);
      const view = await subOf(c);
      expect(view.plan).toBe('pro');
      expect(Date.parse(view.subscription.currentPeriodEnd)).toBeGreaterThan(Date.parse(end1));
      expect(view.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(2);
    } finally {
      now = Date.now();
    }
  });

  it('retries a SoftDeclined renewal and succeeds on the next run', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    now = Date.parse(done.body.subscription.currentPeriodEnd) + 1000;
    try {
      stand.nextCharges.push('SoftDeclined');
      await app.services.billing.renewDue();
      await relogin(c);
      let view = await subOf(c);
      expect(view.subscription.status).toBe('active');
      expect(view.payments[0]).toMatchObject({ status: 'failed', failureReason: 'SoftDeclined' });
      await app.services.billing.renewDue();
      view = await subOf(c);
      expect(view.plan).toBe('pro');
      expect(view.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(2);
    } finally {
      now = Date.now();
    }
  });

  it('a charge still settling stays pending; the IPN (re-fetched) completes the renewal once', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    const end1 = done.body.subscription.currentPeriodEnd as string;
    now = Date.parse(end1) + 1000;
    try {
      stand.nextCharges.push('Pending');
      await app.services.billing.renewDue();
      await relogin(c);
      let view = await subOf(c);
      expect(view.subscription.currentPeriodEnd).toBe(end1);
      expect(view.payments[0].status).toBe('pending');
      const userId = (await c.get('/api/v1/me')).body.id;
      const chargeId = (
        (await rawSql(app.services).get(
          "SELECT provider_ref FROM payments WHERE user_id = ? AND status = 'pending'",
          userId,
        )) as { provider_ref: string }
      ).provider_ref;
      // Before Amazon settles, an IPN changes nothing; afterwards it completes the period exactly once.
      expect(
        (await ipn({ ObjectType: 'CHARGE', ObjectId: chargeId, NotificationType: 'STATE_CHANGE' })).body
          .result,
      ).toBe('applied');
      expect((await subOf(c)).payments[0].status).toBe('pending');
      stand.charges.get(chargeId)!.state = 'Captured';
      expect(
        (await ipn({ ObjectType: 'CHARGE', ObjectId: chargeId, NotificationType: 'STATE_CHANGE' })).body
          .result,
      ).toBe('applied');
      await ipn({ ObjectType: 'CHARGE', ObjectId: chargeId, NotificationType: 'STATE_CHANGE' });
      view = await subOf(c);
      expect(view.payments[0].status).toBe('succeeded');
      expect(view.subscription.currentPeriodEnd > end1).toBe(true);
      const end2 = view.subscription.currentPeriodEnd;
      await app.services.billing.renewDue();
      expect((await subOf(c)).subscription.currentPeriodEnd).toBe(end2);
    } finally {
      now = Date.now();
    }
  });

  it('HardDeclined sends the user to fix payment', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    now = Date.parse(done.body.subscription.currentPeriodEnd) + 1000;
    try {
      stand.nextCharges.push('HardDeclined');
      await app.services.billing.renewDue();
      await relogin(c);
      const view = await subOf(c);
      expect(view).toMatchObject({
        plan: 'free',
        subscription: { status: 'past_due', needsPaymentFix: true },
      });
      const notes = (await c.get('/api/v1/notifications')).body;
      expect(notes.notifications[0]).toMatchObject({
        kind: 'payment_failed',
        payload: { reason: 'HardDeclined' },
      });
    } finally {
      now = Date.now();
    }
  });

  it('cancel keeps the permission open until the period end, so resume works; then it is closed', async () => {
    const c = await registered(app);
    const { done } = await payWithAmazon(c);
    const end = done.body.subscription.currentPeriodEnd as string;
    const userId = (await c.get('/api/v1/me')).body.id;
    const cp = (
      (await rawSql(app.services).get(
        'SELECT provider_subscription_id AS id FROM subscriptions WHERE user_id = ?',
        userId,
      )) as { id: string }
    ).id;
    const r = await c.post('/api/v1/billing/cancel');
    expect(r.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: true } });
    // A closed permission can never be reopened: closing now would make resume impossible.
    expect(stand.permissions.get(cp)?.state).toBe('Chargeable');
    const resumed = await c.post('/api/v1/billing/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: false } });

    await c.post('/api/v1/billing/cancel');
    now = Date.parse(end) + 1000;
    try {
      await app.services.billing.renewDue();
      await relogin(c);
      const view = await subOf(c);
      expect(view).toMatchObject({ plan: 'free', subscription: { status: 'canceled' } });
      expect(stand.permissions.get(cp)?.state).toBe('Closed');
      // No charge was attempted on the cancelled subscription's permission.
      const charged = [...stand.charges.values()].filter((ch) => ch.chargePermissionId === cp);
      expect(charged).toHaveLength(1);
      expect(view.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(1);
    } finally {
      now = Date.now();
    }
  });

  it('a permission the buyer closed on Amazon cannot be resumed: 409 resume_needs_checkout', async () => {
    const c = await registered(app);
    await payWithAmazon(c);
    const userId = (await c.get('/api/v1/me')).body.id;
    const cp = (
      (await rawSql(app.services).get(
        'SELECT provider_subscription_id AS id FROM subscriptions WHERE user_id = ?',
        userId,
      )) as { id: string }
    ).id;
    stand.permissions.get(cp)!.state = 'Closed';
    await ipn({ ObjectType: 'CHARGE_PERMISSION', ObjectId: cp, NotificationType: 'STATE_CHANGE' });
    expect((await subOf(c)).subscription.cancelAtPeriodEnd).toBe(true);
    const r = await c.post('/api/v1/billing/resume');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('resume_needs_checkout');
    expect((await subOf(c)).subscription.cancelAtPeriodEnd).toBe(true);
  });

  it('each captured payment has a receipt paid through Amazon Pay', async () => {
    const c = await registered(app);
    await payWithAmazon(c);
    const [payment] = (await subOf(c)).payments;
    const receipt = (await c.get(`/api/v1/billing/receipts/${payment.receiptId}`)).body;
    expect(receipt).toMatchObject({ provider: 'amazonpay', amountJpy: 1480, taxJpy: 134 });
  });

  it('IPN: verified, treated as a hint, applied once; forged, stale and off-host messages refused', async () => {
    const c = await registered(app);
    await payWithAmazon(c);
    const userId = (await c.get('/api/v1/me')).body.id;
    const cp = (
      (await rawSql(app.services).get(
        'SELECT provider_subscription_id AS id FROM subscriptions WHERE user_id = ?',
        userId,
      )) as { id: string }
    ).id;
    const hint = { ObjectType: 'CHARGE_PERMISSION', ObjectId: cp, NotificationType: 'STATE_CHANGE' };

    // A genuine IPN claiming a change Amazon does not confirm changes nothing.
    expect((await ipn(hint)).body.result).toBe('applied');
    expect((await subOf(c)).subscription.cancelAtPeriodEnd).toBe(false);

    // Forged: body altered after signing.
    const good = sns.sign({
      Type: 'Notification',
      MessageId: 'forge-1',
      TopicArn: 'arn:x',
      Message: JSON.stringify(hint),
      Timestamp: new Date(now).toISOString(),
    });
    const forged = { ...good, Message: JSON.stringify({ ...hint, ObjectId: 'S03-other' }) };
    const f = await fetch(`${app.url}/api/v1/webhooks/amazonpay`, {
      method: 'POST',
      body: JSON.stringify(forged),
    });
    expect(f.status).toBe(400);
    // Stale (replayed long after) and certificate from a host that is not SNS.
    expect((await ipn(hint, { Timestamp: new Date(now - 2 * 3600_000).toISOString() })).status).toBe(400);
    const offHost = { ...good, SigningCertURL: 'https://evil.example.com/cert.pem' };
    expect(
      (await fetch(`${app.url}/api/v1/webhooks/amazonpay`, { method: 'POST', body: JSON.stringify(offHost) }))
        .status,
    ).toBe(400);

    // The buyer closes the permission on Amazon's side: the re-fetch confirms it.
    stand.permissions.get(cp)!.state = 'Closed';
    const first = await ipn(hint);
    expect(first.body.result).toBe('applied');
    expect((await subOf(c)).subscription.cancelAtPeriodEnd).toBe(true);
    // Duplicate delivery of the same SNS message.
    const dup = await fetch(`${app.url}/api/v1/webhooks/amazonpay`, {
      method: 'POST',
      body: JSON.stringify(first.signed),
    });
    expect(((await dup.json()) as { result: string }).result).toBe('duplicate');
  });
  it('every request the SDK made verified against the merchant key', () => {
    expect(stand.authHeaders.length).toBeGreaterThan(5);
    expect(stand.badSignatures).toBe(0);
  });

  it('a request signed with another key is refused by Amazon and grants nothing', async () => {
    const other = merchantKeys();
    const wrong = await startApp(
      {
        ML_URL: ml.url,
        AMAZON_PAY_PUBLIC_KEY_ID: 'SANDBOX-AETESTKEY',
        AMAZON_PAY_PRIVATE_KEY: other.privateKey,
        AMAZON_PAY_MERCHANT_ID: 'A2MERCHANT',
        AMAZON_PAY_STORE_ID: 'amzn1.application-oa2-client.test',
      },
      {
        now: () => now,
        amazonPay: {
          overrideServiceUrl: stand.host,
          sns: { certUrlPattern: /^http:\/\/127\.0\.0\.1:\d+\/[^?#]+\.pem$/ },
        },
      },
    );
    try {
      const c = await registered(wrong);
      const before = stand.badSignatures;
      const { done } = await payWithAmazon(c);
      expect(done.status).toBeGreaterThanOrEqual(400);
      expect(done.body.error).toBeDefined();
      expect(stand.badSignatures).toBeGreaterThan(before);
      expect((await c.get('/api/v1/me')).body.plan).toBe('free');
    } finally {
      await wrong.close();
    }
  });
});
