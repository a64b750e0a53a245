import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { includedTax, receiptNumber } from '../src/billing/receipts.service.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, relogin, startApp, type Client, type TestApp } from './support/harness.js';

const ISSUER = { INVOICE_ISSUER_NAME: '株式会社レゼンブル', INVOICE_REGISTRATION_NUMBER: 'T1234567890123' };

async function subscribe(c: Client): Promise<any> {
  const r = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(r.body.redirectUrl, 'http://x').searchParams.get('session')!;
  const done = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
  expect(done.body.plan).toBe('pro');
  return done.body;
}

describe('cancel, resume and receipts (sandbox provider, clock seam)', () => {
  let ml: MlStandIn;
  let plain: TestApp;
  let invoicing: TestApp;
  let now = Date.now();
  beforeAll(async () => {
    ml = await startMlStandIn();
    plain = await startApp({ ML_URL: ml.url }, { now: () => now });
    invoicing = await startApp({ ML_URL: ml.url, ...ISSUER }, { now: () => now });
  });
  afterAll(async () => {
    await plain.close();
    await invoicing.close();
    await ml.close();
  });

  it('cancel → active until the period end → resume → renews as before', async () => {
    const c = await registered(plain);
    const start = await subscribe(c);
    const end = start.subscription.currentPeriodEnd;
    expect((await c.post('/api/v1/billing/resume')).body.error.code).toBe('not_cancelled');

    const cancelled = await c.post('/api/v1/billing/cancel');
    expect(cancelled.body).toMatchObject({
      plan: 'pro',
      subscription: { cancelAtPeriodEnd: true, status: 'active', currentPeriodEnd: end },
    });
    const resumed = await c.post('/api/v1/billing/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({
      plan: 'pro',
      subscription: { cancelAtPeriodEnd: false, currentPeriodEnd: end },
    });
    now = Date.parse(end) + 1000;
    try {
      expect(await plain.services.billing.renewDue()).toBe(1);
      await relogin(c);
      const after = (await c.get('/api/v1/billing/subscription')).body;
      expect(after.plan).toBe('pro');
      expect(Date.parse(after.subscription.currentPeriodEnd)).toBeGreaterThan(Date.parse(end));
    } finally {
      now = Date.now();
    }
  });

  it('after the date a cancelled plan is Free, even before the renewal run, and cannot be resumed', async () => {
    const c = await registered(plain);
    const start = await subscribe(c);
    await c.post('/api/v1/billing/cancel');
    now = Date.parse(start.subscription.currentPeriodEnd) + 1;
    try {
      await relogin(c);
      expect((await c.get('/api/v1/me')).body.plan).toBe('free');
      expect((await c.get('/api/v1/billing/subscription')).body.plan).toBe('free');
      const late = await c.post('/api/v1/billing/resume');
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('no_subscription');
      await plain.services.billing.renewDue();
      const after = (await c.get('/api/v1/billing/subscription')).body;
      expect(after.subscription.status).toBe('canceled');
      // Nothing was charged for the cancelled period.
      expect(after.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(1);
    } finally {
      now = Date.now();
    }
  });

  it('one plain receipt per successful payment, none for a declined one; tax included at 10 %', async () => {
    const c = await registered(plain);
    const r = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
    const session = new URL(r.body.redirectUrl, 'http://x').searchParams.get('session')!;
    await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'decline' });
    await subscribe(c);
    await c.post('/api/v1/billing/sandbox/renew', { outcome: 'success' });
    const view = (await c.get('/api/v1/billing/subscription')).body;
    const paid = view.payments.filter((p: any) => p.status === 'succeeded');
    expect(paid).toHaveLength(2);
    expect(view.payments.find((p: any) => p.status === 'failed').receiptId).toBeNull();
    const ids = paid.map((p: any) => p.receiptId);
    expect(ids).toEqual(paid.map((p: any) => p.id));

    const receipt = (await c.get(`/api/v1/billing/receipts/${ids[0]}`)).body;
    expect(receipt).toMatchObject({
      id: ids[0],
      plan: 'pro',
      provider: 'sandbox',
      amountJpy: 1480,
      taxRatePercent: 10,
      taxJpy: 134,
      recipientName: c.email,
      qualifiedInvoice: null,
    });
    expect(receipt.number).toBe(receiptNumber(ids[0], receipt.paidAt));
    const other = (await c.get(`/api/v1/billing/receipts/${ids[1]}`)).body;
    expect(other.number).not.toBe(receipt.number);
    // Listing again issues nothing new.
    expect((await c.get(`/api/v1/billing/receipts/${ids[0]}`)).body).toEqual(receipt);
  });

  it("a receipt is its owner's only: anyone else gets 404, as does an unknown or malformed id", async () => {
    const owner = await registered(plain);
    await subscribe(owner);
    const id = (await owner.get('/api/v1/billing/subscription')).body.payments[0].receiptId;
    const other = await registered(plain);
    expect((await other.get(`/api/v1/billing/receipts/${id}`)).status).toBe(404);
    expect((await owner.get(`/api/v1/billing/receipts/${crypto.randomUUID()}`)).status).toBe(404);
    const bad = await owner.get('/api/v1/billing/receipts/not-a-uuid');
    expect(bad.status).toBe(400);
    expect((await plain.client().get(`/api/v1/billing/receipts/${id}`)).status).toBe(401);
  });

  it('with an issuer configured the receipt is a qualified invoice made out to the chosen name', async () => {
    const c = await registered(invoicing);
    await subscribe(c);
    const named = await c.req('PATCH', '/api/v1/billing/receipt-name', { name: '  株式会社 類似商事  ' });
    expect(named.status).toBe(200);
    expect(named.body.receiptName).toBe('株式会社 類似商事');
    const id = named.body.payments[0].receiptId;
    const receipt = (await c.get(`/api/v1/billing/receipts/${id}`)).body;
    expect(receipt).toMatchObject({
      recipientName: '株式会社 類似商事',
      amountJpy: 1480,
      taxJpy: 134,
      taxRatePercent: 10,
      qualifiedInvoice: { issuerName: '株式会社レゼンブル', registrationNumber: 'T1234567890123' },
    });
    // An empty name goes back to the e-mail address; too long a name is refused.
    expect((await c.req('PATCH', '/api/v1/billing/receipt-name', { name: '' })).body.receiptName).toBeNull();
    expect((await c.get(`/api/v1/billing/receipts/${id}`)).body.recipientName).toBe(c.email);
    const long = await c.req('PATCH', '/api/v1/billing/receipt-name', { name: 'x'.repeat(81) });
    expect(long.status).toBe(400);
  });

  it('a receipt keeps the issuer it was issued under (configuration changes do not rewrite it)', async () => {
    // The same database seen by an app without the issuer: receipts issued there stay qualified.
    const c = await registered(invoicing);
    await subscribe(c);
    const id = (await c.get('/api/v1/billing/subscription')).body.payments[0].receiptId;
    const { sameDatabaseAs } = await import('./support/harness.js');
    const reconfigured = await startApp({ ML_URL: ml.url, ...sameDatabaseAs(invoicing) }, { now: () => now });
    try {
      const again = reconfigured.client();
      for (const [k, v] of c.cookies) again.cookies.set(k, v);
      const r = await again.get(`/api/v1/billing/receipts/${id}`);
      expect(r.status).toBe(200);
      expect(r.body.qualifiedInvoice).toMatchObject({ registrationNumber: 'T1234567890123' });
    } finally {
      await reconfigured.close();
    }
  });
});

describe('receipt arithmetic and issuer configuration', () => {
  it('includedTax matches the definition (the largest t with t ≤ amount·r/(100+r)) on edge amounts', () => {
    const slow = (amount: number, r: number) => {
      let t = 0;
      while ((t + 1) * (100 + r) <= amount * r) t++;
      return t;
    };
    for (const amount of [0, 1, 10, 11, 109, 110, 111, 1480, 1481, 9999, 123457])
      for (const r of [8, 10]) expect(includedTax(amount, r), `${amount} at ${r}%`).toBe(slow(amount, r));
    expect(includedTax(1480, 10)).toBe(134);
    expect(includedTax(1100, 10)).toBe(100);
  });

  it('receipt numbers are stable and differ between payments', () => {
    const a = receiptNumber('0f1e2d3c-4b5a-4978-8877-665544332211', '2026-12-07T08:00:00.000Z');
    expect(a).toBe('R-20261207-0F1E2D3C4B');
    expect(receiptNumber('0f1e2d3c-4c5a-4978-8877-665544332211', '2026-12-07T08:00:00.000Z')).not.toBe(a);
  });

  it('config: both issuer fields or neither; the registration number is T and 13 digits', () => {
    const base = { NODE_ENV: 'test', APP_DB: ':memory:', JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig(base).billing.invoiceIssuer).toBeNull();
    expect(loadConfig({ ...base, ...ISSUER }).billing.invoiceIssuer).toEqual({
      name: '株式会社レゼンブル',
      registrationNumber: 'T1234567890123',
    });
    const issues = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues;
      }
    };
    expect(issues({ INVOICE_ISSUER_NAME: '株式会社レゼンブル' }).join()).toMatch(/set both/);
    expect(issues({ INVOICE_REGISTRATION_NUMBER: 'T1234567890123' }).join()).toMatch(/set both/);
    for (const bad of [
      '1234567890123',
      'T123456789012',
      'T12345678901234',
      't1234567890123',
      'T12345678901a3',
    ])
      expect(issues({ ...ISSUER, INVOICE_REGISTRATION_NUMBER: bad }).join(), bad).toMatch(
        /INVOICE_REGISTRATION_NUMBER: .*T followed by 13 digits/,
      );
  });
});
