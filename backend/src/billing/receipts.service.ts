/**
 * Receipts. Each successful payment gets one, issued the first time its owner lists their payments
 * (the moment it is handed over) and frozen then: number, amounts, tax and, when configured, the issuer
 * of qualified invoices (適格請求書発行事業者) with its 登録番号. A receipt made while no issuer was
 * configured stays a plain receipt (領収書) afterwards, and one made under an issuer keeps that issuer.
 *
 * Prices include consumption tax (消費税 10 %, 内税). A qualified invoice rounds tax once per invoice per
 * rate; we round down (切り捨て), the common choice, so the tax in ¥1,480 is ¥134.
 */
import type { BillingProvider, PlanId, Receipt } from '@resemble/contracts';
import type { Executor } from '../db/schema.js';
import type { InvoiceIssuerConfig } from '../config.js';
import { AppError } from '../platform/errors.js';
import { insertReceipt, paymentsWithoutReceipt, receiptOfUser } from './receipts.repo.js';

export const CONSUMPTION_TAX_PERCENT = 10;

/** The tax contained in a tax-inclusive amount at `ratePercent`, rounded down once. */
export function includedTax(amountJpy: number, ratePercent: number): number {
  return Math.floor((amountJpy * ratePercent) / (100 + ratePercent));
}

/** Readable and unique: the payment day and the start of the payment's own id. */
export function receiptNumber(paymentId: string, paidAtIso: string): string {
  const day = paidAtIso.slice(0, 10).replaceAll('-', '');
  return `R-${day}-${paymentId.replaceAll('-', '').slice(0, 10).toUpperCase()}`;
}

export async function issueReceipts(
  db: Executor,
  userId: string,
  plan: Exclude<PlanId, 'free'>,
  issuer: InvoiceIssuerConfig | null,
  nowIso: string,
): Promise<number> {
  const pending = await paymentsWithoutReceipt(db, userId);
  for (const p of pending) {
    await insertReceipt(db, {
      payment_id: p.id,
      user_id: userId,
      number: receiptNumber(p.id, p.created_at),
      plan,
      amount_jpy: p.amount_jpy,
      tax_rate_percent: CONSUMPTION_TAX_PERCENT,
      tax_jpy: includedTax(p.amount_jpy, CONSUMPTION_TAX_PERCENT),
      issuer_name: issuer?.name ?? null,
      registration_number: issuer?.registrationNumber ?? null,
      issued_at: nowIso,
    });
  }
  return pending.length;
}

export async function receiptOf(db: Executor, userId: string, paymentId: string): Promise<Receipt> {
  const r = await receiptOfUser(db, userId, paymentId);
  if (!r) throw new AppError(404, 'not_found', 'no such receipt');
  return {
    id: r.payment_id,
    number: r.number,
    issuedAt: r.issued_at,
    paidAt: r.paid_at,
    plan: r.plan as PlanId,
    period: r.period,
    provider: r.provider as BillingProvider,
    amountJpy: r.amount_jpy,
    taxRatePercent: r.tax_rate_percent,
    taxJpy: r.tax_jpy,
    recipientName: r.receipt_name ?? r.email,
    qualifiedInvoice:
      r.issuer_name && r.registration_number
        ? { issuerName: r.issuer_name, registrationNumber: r.registration_number }
        : null,
  };
}
